"""The organiser side: one package per domain (see ARCHITECTURE.md), all under ``/admin``.

Every view here requires a signed-in account; raters never reach this package.
``bp`` is the blueprint of the campaign and results pages (evaluation/results/views.py);
app.register_blueprints imports the view modules, so no package imports its views back.
"""
from flask import Blueprint

from evaluation.listing import list_url

bp = Blueprint("evaluation", __name__, url_prefix="/admin")
# Every list template builds its sort, page and export links with it (templates/macros/lists.html).
bp.add_app_template_global(list_url, "list_url")
