"""The built-in questionnaire catalog: YAML files in ``surveys/catalog/``.

Loading is idempotent: a questionnaire whose key already exists in the
database is left alone (it may be frozen and have ballots), so running the
loader on every start or demo is safe.

A quiz entry (``kind: quiz``, a learning test 学习成果测试) also gives its
``pass_mark`` and, per item, ``points`` and the key: ``correct: true`` on the
right options of a choice item (listed inline under ``options``, each item
getting its own scale), or an ``accepted`` list of answers for a ``fill`` item.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from extensions import db
from models import Item, ItemKind, Option, Polarity, Questionnaire, Scale

CATALOG_DIR = Path(__file__).parent / "catalog"


def catalog_files() -> list[Path]:
    """The YAML files of the catalog, in a stable order."""
    return sorted(CATALOG_DIR.glob("*.yaml"))


def read_entry(path: Path) -> dict[str, Any]:
    """Parse one catalog file and check the fields every entry must have."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for field in ("key", "title", "items"):
        if field not in data:
            raise ValueError(f"{path.name}: missing '{field}'")
    return data


def _options(specs: list[dict[str, Any]]) -> list[Option]:
    """Options of a scale in order; a quiz option marks its key with ``correct: true``."""
    return [Option(label=str(opt["label"]), position=position, score=opt.get("score"),
                   polarity=Polarity(opt.get("polarity", "unknown")), correct=bool(opt.get("correct", False)))
            for position, opt in enumerate(specs, start=1)]


def _check_quiz_item(position: int, kind: ItemKind, item: Item) -> None:
    """A quiz item must carry points and a usable key; refuse the entry otherwise."""
    where = f"item {position}"
    if kind in (ItemKind.SINGLE, ItemKind.MULTIPLE, ItemKind.FILL) and not (item.points or 0) > 0:
        raise ValueError(f"{where}: a quiz item needs positive 'points'")
    if kind in (ItemKind.SINGLE, ItemKind.MULTIPLE):
        n_correct = sum(o.correct for o in item.scale.options)
        if n_correct == 0 or (kind is ItemKind.SINGLE and n_correct != 1):
            raise ValueError(f"{where}: a {kind.value} item needs {'exactly one' if kind is ItemKind.SINGLE else 'a'}"
                             " correct option")
    if kind is ItemKind.FILL and not json.loads(item.accepted or "[]"):
        raise ValueError(f"{where}: a fill item needs 'accepted' answers")


def build_questionnaire(data: dict[str, Any]) -> Questionnaire:
    """Turn one parsed catalog entry into unsaved Questionnaire/Item/Scale objects.

    Survey entries share named ``scales``; a choice item may instead list its own
    ``options`` (a private scale). Quiz entries also carry ``pass_mark``, item
    ``points``, ``correct`` options and ``accepted`` fill-in answers.
    """
    scales: dict[str, Scale] = {}
    for scale_key, spec in (data.get("scales") or {}).items():
        scales[scale_key] = Scale(name=spec.get("name", scale_key), options=_options(spec["options"]))
    quiz = data.get("kind", "survey") == "quiz"
    questionnaire = Questionnaire(
        key=data["key"], version=1, title=data["title"], intro=(data.get("intro") or "").strip(),
        kind="quiz" if quiz else "survey", pass_mark=float(data.get("pass_mark", 80)),
    )
    for position, spec in enumerate(data["items"], start=1):
        kind = ItemKind(spec.get("kind", "scale"))
        scale = None
        if "options" in spec:
            scale = Scale(name=spec.get("scale_name", f"第{position}题选项"), options=_options(spec["options"]))
        elif kind not in (ItemKind.TEXT, ItemKind.FILL):
            scale = scales[spec["scale"]]
        accepted = spec.get("accepted")
        item = Item(
            position=position, kind=kind, text=spec["text"],
            required=spec.get("required", kind is not ItemKind.TEXT), scale=scale,
            points=float(spec["points"]) if spec.get("points") is not None else None,
            accepted=json.dumps([str(a) for a in accepted], ensure_ascii=False) if accepted is not None else None,
        )
        if quiz:
            _check_quiz_item(position, kind, item)
        questionnaire.items.append(item)
    return questionnaire


def load_catalog() -> list[Questionnaire]:
    """Insert every catalog questionnaire not yet in the database; return the new ones."""
    added = []
    for path in catalog_files():
        data = read_entry(path)
        exists = db.session.scalar(db.select(Questionnaire.id).where(Questionnaire.key == data["key"]).limit(1))
        if exists is None:
            questionnaire = build_questionnaire(data)
            db.session.add(questionnaire)
            added.append(questionnaire)
    db.session.commit()
    return added


def latest(key: str) -> Questionnaire | None:
    """The newest version of the questionnaire with this key."""
    return db.session.scalar(
        db.select(Questionnaire).where(Questionnaire.key == key).order_by(Questionnaire.version.desc()).limit(1)
    )
