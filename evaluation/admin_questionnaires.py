"""Questionnaires: copy from the catalog, edit items and options, preview, versions."""
from flask import Blueprint

bp = Blueprint("questionnaires", __name__, url_prefix="/admin")
