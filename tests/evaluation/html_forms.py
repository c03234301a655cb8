"""Read the forms of a page the way a browser does, so a walk-through test fills in real forms.

A test that posts hand-built dictionaries proves the view works; it does not
prove the page offers that form with those fields. :func:`forms` parses every
``<form>`` of a page (stdlib ``html.parser``, no extra dependency) and
:meth:`Form.data` produces what a browser would send: hidden fields (CSRF
token, nonces), default text values, ticked boxes, selected options, plus the
clicked button — overridden by what the user types or picks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Optional

from werkzeug.datastructures import MultiDict


@dataclass
class Control:
    """One named control: an input, a select (with its options) or a textarea."""

    tag: str
    type: str
    name: str
    value: str = ""
    checked: bool = False
    options: list[list] = field(default_factory=list)  # [value, selected, label] of a <select>'s options


@dataclass
class Form:
    """A ``<form>``: where it posts and its controls in page order."""

    action: str
    method: str
    controls: list[Control] = field(default_factory=list)

    def names(self) -> set[str]:
        """Every control name of the form."""
        return {c.name for c in self.controls}

    def choices(self, name: str) -> list[str]:
        """The values a user may pick for ``name``: a select's options, or the radio/checkbox values."""
        found = []
        for c in self.controls:
            if c.name == name and c.tag == "select":
                found.extend(o[0] for o in c.options)
            elif c.name == name and c.type in ("radio", "checkbox"):
                found.append(c.value)
        return found

    def pick(self, name: str, label: str) -> str:
        """The value of the one option of select ``name`` whose visible label contains ``label``."""
        found = [o[0] for c in self.controls if c.name == name for o in c.options if label in o[2]]
        assert len(found) == 1, f"{name}: {len(found)} options labelled ~{label!r}"
        return found[0]

    def data(self, button: Optional[tuple[str, str]] = None, **typed) -> MultiDict:
        """What a browser submits, with ``typed`` replacing the page's values (a list for several values)."""
        sent = MultiDict()
        for c in self.controls:
            if c.name in typed or c.type in ("submit", "button", "file", "reset"):
                continue
            if c.tag == "select":
                chosen = [o[0] for o in c.options if o[1]] or [c.options[0][0]] if c.options else []
                for value in chosen:
                    sent.add(c.name, value)
            elif c.type in ("checkbox", "radio"):
                if c.checked:
                    sent.add(c.name, c.value or "on")
            else:
                sent.add(c.name, c.value)
        for name, value in typed.items():
            for one in value if isinstance(value, (list, tuple)) else [value]:
                sent.add(name, one)
        if button:
            sent.add(*button)
        return sent


class _Parser(HTMLParser):
    def __init__(self, url: str):
        super().__init__(convert_charrefs=True)
        self.url, self.forms = url, []
        self.form: Optional[Form] = None
        self.select: Optional[Control] = None
        self.textarea: Optional[Control] = None
        self.option: Optional[list] = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self.form = Form(a.get("action") or self.url, (a.get("method") or "get").lower())
            self.forms.append(self.form)
        elif self.form is None or ("name" not in a and tag != "option"):
            return
        elif tag in ("input", "button"):
            kind = a.get("type", "text" if tag == "input" else "submit").lower()
            self.form.controls.append(Control(tag, kind, a["name"], a.get("value", ""), "checked" in a))
        elif tag == "select":
            self.select = Control("select", "select", a["name"])
            self.form.controls.append(self.select)
        elif tag == "option" and self.select is not None:
            self.option = [a.get("value", ""), "selected" in a, ""]
            self.select.options.append(self.option)
        elif tag == "textarea":
            self.textarea = Control("textarea", "textarea", a["name"])
            self.form.controls.append(self.textarea)

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea.value += data
        elif self.option is not None:
            self.option[2] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = self.option = None
        elif tag == "option":
            self.option = None
        elif tag == "textarea":
            self.textarea = None


def forms(html: str, url: str = "") -> list[Form]:
    """Every form of the page; ``url`` is the page's own address (a form without ``action`` posts there)."""
    parser = _Parser(url)
    parser.feed(html)
    return parser.forms


def form_with(html: str, url: str = "", *, action: str = "", fields: tuple[str, ...] = ()) -> Form:
    """The one form whose action contains ``action`` and which has all ``fields``; fails clearly otherwise."""
    found = [f for f in forms(html, url) if action in f.action and set(fields) <= f.names()]
    assert len(found) == 1, f"expected one form (action~{action!r}, fields {fields}); found {len(found)}"
    return found[0]


def open_link(client, url: str, status: int = 200) -> str:
    """What a phone does with a slip's link ``…/v#CODE``: the page's script posts the fragment as the code.

    The test client runs no JavaScript, so this does the script's one step: POST the
    part after "#" to ``/v`` in the form body. Returns the page, checking its status.
    """
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    assert parts.path == "/v" and parts.fragment, url  # the code rides after "#", never in the path
    response = client.post("/v", data={"code": parts.fragment}, follow_redirects=True)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def confirm_step(client, html: str, url: str, count: int):
    """Press the button of a confirmation page (evaluation/campaigns/confirm.py), checking it states ``count``.

    Returns the response to that second POST. Fails if the page is not a confirmation, or
    asks to confirm another number than the one the test expects.
    """
    form = form_with(html, url, fields=("confirm",))
    assert form.data()["confirm"] == str(count), (form.data()["confirm"], count)
    return client.post(form.action, data=form.data())


def post_confirmed(client, url: str, data):
    """POST a form that asks for confirmation first, then confirm the count its page stated.

    For tests about what the action does; tests/evaluation/test_codes_confirm.py and
    test_bulk.py check the confirmation itself.
    """
    import re

    from werkzeug.datastructures import MultiDict

    response = client.post(url, data=data)
    html = response.get_data(as_text=True)
    stated = re.search(r'name="confirm" value="([^"]*)"', html) if response.status_code == 200 else None
    if stated is None:
        return response
    data = MultiDict(data)
    data["confirm"] = stated.group(1)
    return client.post(url, data=data)
