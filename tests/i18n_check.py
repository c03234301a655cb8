"""Find Chinese UI text left on a page rendered in English (issue 7: every UI string translatable).

Content is not UI: unit names, questionnaire items, option labels, comments and
every other text stored in the database stay in the language they were written
in. So the check removes every stored text from the page first; any Han
character still there came from a template or from code, i.e. an untranslated
UI string. JSON ``\\uXXXX`` escapes (plotly figures, data attributes) are decoded
first so chart titles and axis labels are checked too.
"""
from __future__ import annotations

import html as html_lib
import re

from sqlalchemy import String, Text, select

from extensions import db

HAN = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def stored_texts() -> list[str]:
    """Every distinct stored text containing a Han character, longest first."""
    texts: set[str] = set()
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (String, Text))]
        for column in columns:
            for (value,) in db.session.execute(select(column).distinct()):
                if isinstance(value, str) and HAN.search(value):
                    texts.add(value)
                    # Long texts are often shown a line or a sentence at a time.
                    texts.update(part for part in re.split(r"[\r\n]+", value) if HAN.search(part))
    return sorted(texts, key=len, reverse=True)


def chinese_left(page: str, extra_content: tuple[str, ...] = ()) -> list[str]:
    """The Han-character runs on ``page`` that are not stored content (empty when fully English).

    ``extra_content`` names further content strings that are not in the database
    (for example a file's name chosen by the user).
    """
    text = html_lib.unescape(_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), page))
    for content in (*extra_content, *stored_texts()):
        text = text.replace(content, " ")
    # The language switch names Chinese in Chinese on purpose.
    text = text.replace("中文", " ")
    return HAN.findall(text)


def english(app, response, status: int = 200, content: tuple[str, ...] = ()) -> str:
    """The page of ``response``: the expected status, in English, with no Chinese UI text left.

    ``content`` names texts shown that are not stored (the rows of a refused
    sheet, axis ticks shortening stored texts).
    """
    html = response.get_data(as_text=True)
    assert response.status_code == status, (response.request.full_path, response.status_code, html[:300])
    assert '<html lang="en">' in html
    with app.app_context():
        left = chinese_left(html, content)
    assert left == [], (response.request.full_path, left[:12])
    return html


def follow(client, response):
    """The page a redirect leads to (flashed messages included)."""
    assert response.status_code in (302, 303), response.status_code
    return client.get(response.headers["Location"])
