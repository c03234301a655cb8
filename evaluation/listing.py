"""Lists that scale: search (``q``), sort and pagination for every organiser list, kept in the URL.

A list declares a :class:`ListSpec` — the columns it may be sorted by (the whitelist) and the
columns its search box reads. Its view reads the query string with :func:`read_args`, builds its
own ``select`` (the reader's scope and the list's filters already applied) and hands both to
:func:`page_of` for one :class:`Page`; the list's CSV/XLSX export hands the very same select to
:func:`all_rows`, so a download holds exactly the rows the filtered list pages through.

Nothing a stranger puts in the query string reaches SQL unchecked: a sort key outside the
whitelist falls back to the default, a page that is not a positive number is page 1, a page past
the end is the last page, and the search text is cut to :data:`Q_MAX` characters with control
characters (NUL included, which PostgreSQL refuses) dropped.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Optional

from flask import request, url_for
from sqlalchemy import String, and_, cast, func, or_, select
from sqlalchemy.sql import Select

from extensions import db

#: Rows per page of every list unless its spec says otherwise.
PER_PAGE = 50
#: Longest search text kept; anything longer is cut (a name or code is far shorter).
Q_MAX = 100
#: Most search words used; the rest are ignored (each word is one more OR over the searched columns).
TERMS_MAX = 5
#: Highest page number read; larger numbers mean the last page (and stay clear of integer overflow).
PAGE_MAX = 1_000_000
#: Page links shown either side of the current page.
WINDOW = 3


@dataclass(frozen=True)
class ListSpec:
    """What one list allows: sortable columns by URL key, searched columns, the default order."""

    sorts: Mapping[str, Any]
    searched: Sequence[Any]
    default_sort: str
    default_desc: bool = False
    #: Unique column(s) ordering rows that tie on the sort column, so page 2 never repeats page 1.
    tiebreak: Sequence[Any] = ()
    per_page: int = PER_PAGE


@dataclass(frozen=True)
class ListArgs:
    """The list's state as read from the URL: search text, sort key and direction, page."""

    q: str = ""
    sort: str = ""
    desc: bool = False
    page: int = 1
    per_page: int = PER_PAGE


@dataclass
class Page:
    """One page of a list with its total, for the table, the pager and the headers."""

    rows: list
    total: int
    args: ListArgs
    default_sort: str = ""
    default_desc: bool = False
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = max(1, math.ceil(self.total / self.args.per_page))

    @property
    def number(self) -> int:
        """The current page number (1-based)."""
        return self.args.page

    @property
    def first(self) -> int:
        """1-based position of the first row shown (0 when the list is empty)."""
        return (self.number - 1) * self.args.per_page + 1 if self.total else 0

    @property
    def last(self) -> int:
        """1-based position of the last row shown."""
        return self.first + len(self.rows) - 1 if self.rows else 0

    def window(self) -> list[Optional[int]]:
        """Page numbers to link: the first, the last and a few around the current; None marks a gap."""
        shown = sorted({1, self.pages, *range(max(1, self.number - WINDOW), min(self.pages, self.number + WINDOW) + 1)})
        out: list[Optional[int]] = []
        for n in shown:
            if out and n - out[-1] > 1:
                out.append(None)
            out.append(n)
        return out


def _clean_q(raw: str) -> str:
    """The search text cut to :data:`Q_MAX`, control characters dropped, spaces collapsed."""
    text = "".join(ch for ch in raw[:Q_MAX * 4] if ord(ch) >= 32 and ord(ch) != 127)
    return " ".join(text.split())[:Q_MAX]


def _page_number(raw: Optional[str]) -> int:
    """A positive page number from the URL; anything else is page 1."""
    raw = (raw or "").strip()
    if not raw.isascii() or not raw.isdigit():  # "abc", "-1", "1.5", full-width digits
        return 1
    return max(1, min(int(raw[:8]), PAGE_MAX))


def read_args(spec: ListSpec, args: Optional[Mapping[str, str]] = None) -> ListArgs:
    """The list's search, sort and page from ``args`` (default: this request's query string).

    Never raises: whatever does not fit the spec falls back to its default.
    """
    args = request.args if args is None else args
    sort = args.get("sort", "")
    if sort not in spec.sorts:
        sort = spec.default_sort
    direction = args.get("dir", "")
    desc = direction == "desc" if direction in ("asc", "desc") else (spec.default_desc if sort == spec.default_sort
                                                                     else False)
    return ListArgs(q=_clean_q(args.get("q", "")), sort=sort, desc=desc, page=_page_number(args.get("page")),
                    per_page=spec.per_page)


def _like(text: str) -> str:
    """``%text%`` with LIKE's own wildcards escaped, so "50%" or "a_b" match literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def searched(spec: ListSpec, query: Select, args: ListArgs) -> Select:
    """``query`` narrowed to rows where every search word is in one of the searched columns."""
    terms = args.q.split()[:TERMS_MAX]
    if not terms or not spec.searched:
        return query
    return query.where(and_(*(
        or_(*(func.lower(cast(column, String)).like(_like(term.lower()), escape="\\") for column in spec.searched))
        for term in terms)))


def ordered(spec: ListSpec, query: Select, args: ListArgs) -> Select:
    """``query`` in the chosen order, empty values last either way, ties broken by the spec's tiebreak."""
    column = spec.sorts[args.sort]
    first = column.desc() if args.desc else column.asc()
    # NULLS LAST in both directions: SQLite and PostgreSQL disagree on where NULL sorts otherwise.
    return query.order_by(None).order_by(first.nulls_last(), *spec.tiebreak)


def count(query: Select) -> int:
    """How many rows ``query`` returns, counted by the database."""
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def page_of(spec: ListSpec, query: Select, args: ListArgs, entities: bool = False) -> Page:
    """One page of ``query`` searched and ordered per ``args``; a page past the end becomes the last.

    ``entities``: the select is of one mapped class (``select(Unit)``) and rows are its objects.
    """
    query = searched(spec, query, args)
    total = count(query)
    pages = max(1, math.ceil(total / args.per_page))
    if args.page > pages:
        args = replace(args, page=pages)
    window = ordered(spec, query, args).offset((args.page - 1) * args.per_page).limit(args.per_page)
    result = db.session.execute(window)
    rows = list(result.scalars() if entities else result)
    return Page(rows, total, args, spec.default_sort, spec.default_desc)


def all_rows(spec: ListSpec, query: Select, args: ListArgs, entities: bool = False) -> list:
    """Every row of the list as filtered and ordered on its page: what its export writes."""
    result = db.session.execute(ordered(spec, searched(spec, query, args), args))
    return list(result.scalars() if entities else result)


def list_url(_endpoint: Optional[str] = None, **changes: Any) -> str:
    """This page's URL with its query string kept and ``changes`` applied (None drops a key).

    Templates build sort headers, page links and export links with it, so every filter in the
    URL survives a click. Changing anything but the page goes back to page 1.
    """
    view_args = request.view_args or {}
    # A key naming a path part (campaign_id) or a url_for option (_external) would clash or steer.
    args = {k: v for k, v in request.args.items() if v not in ("", None) and k not in view_args
            and not k.startswith("_")}
    if "page" not in changes:
        args.pop("page", None)
    args.update(changes)
    args = {k: v for k, v in args.items() if v not in ("", None)}
    if args.get("page") == 1:
        args.pop("page")
    return url_for(_endpoint or request.endpoint, **view_args, **args)
