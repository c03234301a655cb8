"""The built-in questionnaire catalog: YAML files in ``surveys/catalog/``.

Loading is idempotent: a questionnaire whose key already exists in the
database is left alone (it may be frozen and have ballots), so running the
loader on every start or demo is safe.
"""
from __future__ import annotations

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


def build_questionnaire(data: dict[str, Any]) -> Questionnaire:
    """Turn one parsed catalog entry into unsaved Questionnaire/Item/Scale objects."""
    scales: dict[str, Scale] = {}
    for scale_key, spec in (data.get("scales") or {}).items():
        scale = Scale(name=spec.get("name", scale_key))
        for position, opt in enumerate(spec["options"], start=1):
            scale.options.append(Option(
                label=opt["label"], position=position, score=opt.get("score"),
                polarity=Polarity(opt.get("polarity", "unknown")),
            ))
        scales[scale_key] = scale
    questionnaire = Questionnaire(
        key=data["key"], version=1, title=data["title"], intro=(data.get("intro") or "").strip()
    )
    for position, spec in enumerate(data["items"], start=1):
        kind = ItemKind(spec.get("kind", "scale"))
        scale = scales[spec["scale"]] if kind is not ItemKind.TEXT else None
        questionnaire.items.append(Item(
            position=position, kind=kind, text=spec["text"],
            required=spec.get("required", kind is not ItemKind.TEXT), scale=scale,
        ))
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
