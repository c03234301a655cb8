"""Units (单位) and rater groups (测评主体): import, edit, move, deactivate, weights."""
from flask import Blueprint

bp = Blueprint("units", __name__, url_prefix="/admin")
