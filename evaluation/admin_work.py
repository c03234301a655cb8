"""The rest of the campaign's work: suggestions moderation, report verdicts, rectification, stages."""
from flask import Blueprint

bp = Blueprint("work", __name__, url_prefix="/admin")
