"""The rater side: code entry, the questionnaire at ``/v`` (the code in the body), ballot sealing and counting.

Nothing here needs an account; everything a rater may do is decided by the
one-time code they hold.
"""
from flask import Blueprint

bp = Blueprint("surveys", __name__)

from . import routes  # noqa: E402,F401  (registers the views on bp)
