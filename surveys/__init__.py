"""The rater side: code entry, the questionnaire at ``/v/<code>``, ballot storage.

Nothing here needs an account; everything a rater may do is decided by the
one-time code they hold.
"""
from flask import Blueprint

bp = Blueprint("surveys", __name__)

from . import routes  # noqa: E402,F401  (registers the views on bp)
