"""Ask once, server-side, before a bulk or destructive action — in words that name its count.

The first POST of such a form changes nothing: it answers with a page that says exactly
what will happen ("将发放 60 个测评码……", "结束 37 个测评……") and a button that posts the
same fields again with ``confirm`` set to the count it stated. The action runs only when the
posted ``confirm`` equals the count computed again at that moment, so a single accidental
click (with or without JavaScript), a reload, or a change made by someone else in between
never acts unseen: the page simply asks again with the new count.
"""
from __future__ import annotations

from flask import render_template, request

#: The form field that carries the count the organiser confirmed.
FIELD = "confirm"


def confirmed(count: object) -> bool:
    """True when this POST confirms exactly ``count`` (the number the confirmation page stated)."""
    return request.form.get(FIELD) == str(count)


def ask(question: str, button: str, back: str, count: object, details: list[str] | None = None,
        download: bool = False, changed_note: str | None = None):
    """The confirmation page: ``question`` in words, the posted fields again, and ``confirm=count``.

    ``count`` may also be an identity (an account's name, a question's position): what the
    organiser saw and must still hold when the confirmation arrives.
    ``details`` are short lines shown under the question (e.g. the units concerned).
    ``download``: the answer is a file, so the page stays and shows no running seconds.
    ``changed_note``: what to say when a confirmation for another value arrives (default: the count changed).
    Returned with status 200: nothing was done, nothing failed.
    """
    fields = [(name, value) for name in request.form if name != FIELD for value in request.form.getlist(name)]
    changed = FIELD in request.form  # a confirmation for another count: say why we ask again
    return render_template("manage/confirm.html", question=question, button=button, back=back, fields=fields,
                           count=str(count), details=details or [], changed=changed, action=request.path,
                           download=download, changed_note=changed_note)
