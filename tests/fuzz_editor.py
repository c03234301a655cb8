"""Strategies and checks for the questionnaire-editor and work-form fuzz tests (``tests/test_fuzz_forms.py``).

Field values (:data:`texts`, :data:`numbers`, :data:`dates`) mix plausible input with
damage; :data:`editor_specs` draws one editor request without looking at the database
(hypothesis replays draws, and the database changes from one example to the next) and
:func:`editor_request` resolves it against the questionnaires as they are;
:func:`check_answerable` states the rules every edited questionnaire must keep.
"""
from __future__ import annotations

import json

from hypothesis import strategies as st
from sqlalchemy import select

from extensions import db

BASE = "/admin/questionnaires"

texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "  ", "满意", "<script>alert(1)</script>", '=HYPERLINK("http://evil.example","x")',
                     "\x01控制", "a\x0bb", "\u202e", "nan", "inf", "-1e309", "1e6", "1000000.5", "0", "-0"]),
    st.sampled_from([99, 100, 101, 200, 201, 499, 500, 501, 1000, 1001, 2000, 2001, 5001, 20001]).map(
        lambda n: "字" * n),
)
numbers = st.one_of(st.sampled_from(["", "0", "1", "50", "100", "1000", "1001", "-5", "nan", "inf", "-inf", "1e309",
                                     "1e6", "abc", "٣"]), st.floats(allow_nan=True).map(repr))
dates = st.one_of(st.sampled_from(["", "2009-03-01", "2009-02-30", "0001-01-01", "9999-12-31", "99999-01-01",
                                   "2009/03/01", "today", "0000-00-00"]), st.text(max_size=12))
small_ids = st.one_of(st.integers(-3, 50), st.integers(2**31 - 3, 2**31 + 3), st.just(2**63))


def mostly(value, strategy=texts):
    """``value`` about half the time, else anything from ``strategy``: so that accepted requests happen too."""
    return st.one_of(st.just(value), strategy)


def questionnaire_rows(app) -> dict[int, tuple]:
    """Per questionnaire, every row of it, its items, their scales and options (four flat queries)."""
    from models import Item, Option, Questionnaire, Scale

    with app.app_context():
        options: dict[int, list] = {}
        for o in db.session.execute(select(Option.scale_id, Option.id, Option.position, Option.label, Option.score,
                                           Option.polarity, Option.correct).order_by(Option.scale_id, Option.id)):
            options.setdefault(o[0], []).append(tuple(o[1:]))
        scales = dict(db.session.execute(select(Scale.id, Scale.name)).all())
        items: dict[int, list] = {}
        for i in db.session.execute(select(Item.questionnaire_id, Item.id, Item.position, Item.kind, Item.text,
                                           Item.required, Item.points, Item.accepted, Item.scale_id).order_by(Item.id)):
            items.setdefault(i[0], []).append((*i[1:], scales.get(i[-1]), options.get(i[-1])))
        return {q[0]: (tuple(q[1:]), items.get(q[0], [])) for q in db.session.execute(select(
            Questionnaire.id, Questionnaire.key, Questionnaire.version, Questionnaire.title, Questionnaire.intro,
            Questionnaire.frozen, Questionnaire.pass_mark))}


def check_answerable(app, questionnaire_id: int) -> None:
    """The rules every edited questionnaire must keep, checked on the stored rows."""
    from models import Item, ItemKind, Polarity, Questionnaire

    with app.app_context():
        q = db.session.get(Questionnaire, questionnaire_id)
        quiz = q.kind == "quiz"
        assert 1 <= len(q.title) <= 200 and len(q.intro or "") <= 5000
        items = list(q.items)
        assert [i.position for i in items] == list(range(1, len(items) + 1)) and items
        for item in items:
            assert 1 <= len(item.text) <= 500
            choice = item.kind in (ItemKind.SCALE, ItemKind.SINGLE, ItemKind.MULTIPLE)
            assert (item.scale is not None) == choice
            assert item.kind in ((ItemKind.SINGLE, ItemKind.MULTIPLE, ItemKind.FILL, ItemKind.TEXT) if quiz else
                                 (ItemKind.SCALE, ItemKind.SINGLE, ItemKind.MULTIPLE, ItemKind.TEXT))
            if choice:
                options = list(item.scale.options)
                labels = [o.label for o in options]
                assert 2 <= len(options) <= 20 and len(set(labels)) == len(labels)
                assert all(1 <= len(label) <= 100 for label in labels)
                assert [o.position for o in options] == list(range(1, len(options) + 1))
                assert all(o.score is None or abs(o.score) <= 1e6 for o in options)
                if item.kind is ItemKind.SCALE:
                    assert {Polarity.POSITIVE, Polarity.NEGATIVE} <= {o.polarity for o in options}
                # a copy's scales are its own: editing it can never change another questionnaire
                users = set(db.session.scalars(select(Item.questionnaire_id).where(Item.scale_id == item.scale_id)))
                assert users == {q.id}
            if quiz and item.kind is not ItemKind.TEXT:
                assert item.points is not None and 0 < item.points <= 1000
                correct = sum(o.correct for o in item.scale.options) if item.scale else 0
                assert {ItemKind.SINGLE: correct == 1, ItemKind.MULTIPLE: correct >= 1,
                        ItemKind.FILL: bool(json.loads(item.accepted or "[]"))}[item.kind]


def copy_questionnaire(client, app, key: str, new_key: str) -> int:
    """Copy the latest version of ``key`` to ``new_key`` through the editor; its new id."""
    from surveys.catalog import latest

    with app.app_context():
        source = latest(key).id
    response = client.post(f"{BASE}/{source}/copy", data={"key": new_key, "title": ""})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _ids(app, questionnaire_id: int) -> tuple[list[int], list[int], dict[int, list[tuple[int, str]]]]:
    """(item ids, scale ids, (option id, polarity) per scale) of a questionnaire."""
    from models import Questionnaire

    with app.app_context():
        q = db.session.get(Questionnaire, questionnaire_id)
        scales = {i.scale.id: [(o.id, o.polarity.value) for o in i.scale.options] for i in q.items if i.scale}
        return [i.id for i in q.items], list(scales), scales


def _pick(kind: str, n: int, own: list[int], other: list[int]) -> int:
    """An id chosen by a drawn (kind, n): from this questionnaire, from another one, or any number."""
    pool = own if kind == "own" else other if kind == "other" else []
    return pool[n % len(pool)] if pool else n


picks = st.tuples(st.sampled_from(["own", "own", "other", "raw"]), st.one_of(st.integers(0, 30), small_ids))
option_specs = st.fixed_dictionaries({"label": mostly(None), "score": mostly("", numbers),
                                      "polarity": st.sampled_from(["keep", "keep", "positive", "negative",
                                                                   "unknown", "", "x"]),
                                      "correct": st.sampled_from(["y", ""])})
#: One editor request, drawn without looking at the database (hypothesis replays draws, and the
#: database changes from one example to the next); :func:`editor_request` resolves it against it.
editor_specs = st.fixed_dictionaries({
    "questionnaire": st.sampled_from([0, 0, 1, 1, 2]), "other": st.sampled_from([0, 1, 2]),
    "target": st.sampled_from(["meta", "action", "new item", "edit item", "scale"]),
    "item": picks, "scale": picks, "verb": st.sampled_from(["up", "down", "delete", "up", "down", "remove", ""]),
    "action": mostly(None), "kind": mostly("single", st.sampled_from(["scale", "multiple", "text", "fill", "essay"])),
    "title": mostly("新标题"), "intro": texts, "text": mostly("新题目"), "number": mostly("10", numbers),
    "required": st.sampled_from(["y", "", "no"]), "scale_choice": st.sampled_from(["new", None, None, "x", ""]),
    "accepted": st.one_of(texts, st.lists(texts, max_size=25).map("\n".join)),
    "options": st.lists(option_specs, max_size=6),
    "rows": st.sampled_from(["exact", "exact", "exact", "fewer", "duplicated", "foreign", "too many"]),
    "scale_name": st.one_of(st.just("等次"), texts),
    "scale_action": st.sampled_from(["save", "add", "", "delete:first", "up:first", "down:last", "x", "up:1"]),
    "drop": st.sets(st.sampled_from(["title", "text", "kind", "scale", "name", "action", "options-0-id",
                                     "options-0-polarity"]), max_size=2),
})


def editor_request(app, spec: dict, own: list[int], frozen: int) -> tuple[str, dict]:
    """(path, form) of a drawn editor request, resolved against the questionnaires as they are now."""
    qids = own + [frozen]
    qid = qids[spec["questionnaire"]]
    items, scales, options = _ids(app, qid)
    other_items, other_scales, _ = _ids(app, qids[spec["other"]])
    item_id, scale_id = _pick(*spec["item"], items, other_items), _pick(*spec["scale"], scales, other_scales)
    target = spec["target"]
    if target == "meta":
        path, form = f"{BASE}/{qid}/meta", {"title": spec["title"], "intro": spec["intro"],
                                             "pass_mark": spec["number"]}
    elif target == "action":
        path, form = f"{BASE}/{qid}/items", {"action": spec["action"] or f"{spec['verb']}:{item_id}"}
    elif target in ("new item", "edit item"):
        path = f"{BASE}/{qid}/items/new" if target == "new item" else f"{BASE}/{qid}/items/{item_id}"
        form = {"text": spec["text"], "kind": spec["kind"], "required": spec["required"],
                "scale": spec["scale_choice"] if spec["scale_choice"] is not None else str(scale_id)}
        if qid != own[0]:
            form.update(points=spec["number"], accepted=spec["accepted"])
    else:
        path = f"{BASE}/{qid}/scales/{scale_id}"
        current = options.get(scale_id, [])
        ids = [o for o, _ in current]
        specs = spec["options"] or [{"label": None, "score": "", "polarity": "keep", "correct": ""}]
        rows = [{"id": str(o), **specs[n % len(specs)]} for n, (o, _) in enumerate(current)]
        for n, (row, (_, polarity)) in enumerate(zip(rows, current)):
            row["label"] = f"选项{n}" if row["label"] is None else row["label"]
            row["polarity"] = polarity if row["polarity"] == "keep" else row["polarity"]
        if spec["rows"] == "fewer":
            rows = rows[1:]
        elif spec["rows"] == "duplicated" and rows:
            rows.append(dict(rows[0]))
        elif spec["rows"] == "foreign":
            rows = [{**row, "id": str(n)} for n, row in enumerate(rows)]
        elif spec["rows"] == "too many":
            rows += [{"id": "1", "label": f"多{n}", "polarity": "unknown"} for n in range(21)]
        action = spec["scale_action"].replace("first", ids and str(ids[0]) or "1").replace(
            "last", ids and str(ids[-1]) or "1")
        form = {"name": spec["scale_name"], "action": action}
        for n, row in enumerate(rows):
            form.update({f"options-{n}-{k}": v for k, v in row.items()})
    return path, {k: v for k, v in form.items() if k not in spec["drop"]}
