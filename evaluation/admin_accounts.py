"""Accounts, password change and the audit log page."""
from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/admin")
