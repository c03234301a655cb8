"""Public pages that need no code: suggestion forms and rectification commitments per unit."""
from flask import Blueprint

bp = Blueprint("public", __name__)
