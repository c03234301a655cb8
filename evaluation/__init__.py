"""The organiser side: sign-in, campaigns, evaluations, codes (and later dashboards).

Every view here requires a signed-in account; raters never reach this package.
"""
from flask import Blueprint

bp = Blueprint("evaluation", __name__, url_prefix="/admin")

from . import routes  # noqa: E402,F401  (registers the views on bp)
