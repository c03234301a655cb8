"""Learning tests (学习成果测试): quiz results per unit for organisers."""
from flask import Blueprint

bp = Blueprint("quiz", __name__, url_prefix="/admin")
