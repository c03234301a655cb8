"""Evaluations in bulk: create, open, close, thresholds; codes, slips and paper ballots."""
from flask import Blueprint

bp = Blueprint("manage", __name__, url_prefix="/admin")
