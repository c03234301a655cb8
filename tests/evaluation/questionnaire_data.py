"""Helpers and fixtures for the questionnaire-editor tests (``test_questionnaire*.py``).

"DB unchanged" is checked against :func:`snapshot`, every questionnaire, item,
scale and option row. The ``quiz`` fixture is a small learning test made
directly in the database, so these tests do not depend on the catalog's quiz.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from evaluation.services import create_user
from extensions import db
from models import AuditLog, Item, ItemKind, Option, Polarity, Questionnaire, Scale
from surveys.catalog import latest

from results_data import PASSWORD, login

BASE = "/admin/questionnaires"
U = Polarity.UNKNOWN


@pytest.fixture()
def organiser(app, client):
    """The test client, signed in as an organiser."""
    with app.app_context():
        create_user("editor", PASSWORD, "organiser")
    login(client, "editor")
    return client


def snapshot(app) -> tuple:
    """Every row of the questionnaire tables, for "nothing changed" checks."""
    with app.app_context():
        db.session.expire_all()
        return (
            [(q.id, q.key, q.version, q.title, q.intro, q.frozen)
             for q in db.session.scalars(select(Questionnaire).order_by(Questionnaire.id))],
            [(i.id, i.questionnaire_id, i.position, i.kind, i.text, i.required, i.scale_id)
             for i in db.session.scalars(select(Item).order_by(Item.id))],
            [(s.id, s.name) for s in db.session.scalars(select(Scale).order_by(Scale.id))],
            [(o.id, o.scale_id, o.label, o.position, o.score, o.polarity)
             for o in db.session.scalars(select(Option).order_by(Option.id))],
        )


def items_of(app, questionnaire_id: int) -> list[tuple]:
    """``(position, kind, text, required, [(label, polarity), …])`` per item, in order."""
    with app.app_context():
        q = db.session.get(Questionnaire, questionnaire_id)
        return [(i.position, i.kind.value, i.text, i.required,
                 [(o.label, o.polarity.value) for o in i.scale.options] if i.scale else None) for i in q.items]


def ids(app, questionnaire_id: int) -> dict:
    """Item ids in order, and per scale (in item order) its id and option ids."""
    with app.app_context():
        q = db.session.get(Questionnaire, questionnaire_id)
        scales = []
        for item in q.items:
            if item.scale and item.scale.id not in [s for s, _ in scales]:
                scales.append((item.scale.id, [o.id for o in item.scale.options]))
        return {"items": [i.id for i in q.items], "scales": scales}


def scale_form(app, scale_id: int, changes: dict | None = None, action: str = "save", name: str | None = None) -> dict:
    """Form data for the whole scale as stored, with ``changes`` ({option index: {field: value}}) applied.

    A checked ``correct`` box is sent as "y", an unchecked one not at all (as a browser does).
    """
    with app.app_context():
        scale = db.session.get(Scale, scale_id)
        data = {"name": scale.name if name is None else name, "action": action}
        for n, o in enumerate(scale.options):
            row = {"id": str(o.id), "label": o.label, "score": "" if o.score is None else str(o.score),
                   "polarity": o.polarity.value, "correct": "y" if o.correct else None}
            row.update((changes or {}).get(n, {}))
            data.update({f"options-{n}-{field}": value for field, value in row.items() if value is not None})
        return data


def copy(client, source_key: str, key: str) -> int:
    """Copy the latest version of ``source_key`` to ``key``; return the new id."""
    source = client.application
    with source.app_context():
        source_id = latest(source_key).id
    response = client.post(f"{BASE}/{source_id}/copy", data={"key": key, "title": ""})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def audit(app) -> list[tuple[str, str, dict]]:
    with app.app_context():
        return [(e.action, e.target, json.loads(e.detail or "{}"))
                for e in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]


def latest_id(app, key: str) -> int:
    with app.app_context():
        return latest(key).id


@pytest.fixture()
def quiz(app):
    """A small learning test: single (50 points), multiple (30), fill-in (20) and a free-text item."""
    with app.app_context():
        single = Scale(name="第1题选项", options=[Option(label="发展", position=1, polarity=U, correct=True),
                                              Option(label="稳定", position=2, polarity=U)])
        multiple = Scale(name="第2题选项", options=[Option(label="以人为本", position=1, polarity=U, correct=True),
                                                Option(label="统筹兼顾", position=2, polarity=U, correct=True),
                                                Option(label="多快好省", position=3, polarity=U)])
        q = Questionnaire(key="quiz_t", version=1, title="学习成果测试", intro="满分 100 分。", kind="quiz",
                          pass_mark=80, items=[
                              Item(position=1, kind=ItemKind.SINGLE, text="第一要义是", scale=single, points=50),
                              Item(position=2, kind=ItemKind.MULTIPLE, text="基本要求有", scale=multiple, points=30),
                              Item(position=3, kind=ItemKind.FILL, text="核心是____", points=20,
                                   accepted=json.dumps(["以人为本"], ensure_ascii=False)),
                              Item(position=4, kind=ItemKind.TEXT, text="意见", required=False)])
        db.session.add(q)
        db.session.commit()
        return q.id


def quiz_items(app, questionnaire_id: int) -> list[tuple]:
    """``(kind, points, accepted, [(label, correct), …])`` per item."""
    with app.app_context():
        q = db.session.get(Questionnaire, questionnaire_id)
        return [(i.kind.value, i.points, json.loads(i.accepted) if i.accepted else None,
                 [(o.label, o.correct) for o in i.scale.options] if i.scale else None) for i in q.items]
