"""Raw anonymous ballots for export: one row per answer (CSV) or per ballot (XLSX), streamed.

Rows come straight from the database in batches (``yield_per``: a server-side
cursor on PostgreSQL), in the order of the answers' primary key, so a campaign of
any size is exported with flat memory and the database need not sort. Ballot rows
carry the day of submission only, never a code. Rater groups below a unit's
minimum are left out (analysis.disclosure), and the files say how many.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pandas as pd
from flask_babel import gettext
from sqlalchemy import select

from analysis import disclosure
from analysis.exports import csv_chunks, neutralise
from extensions import db
from models import Answer, Ballot, BallotTally, Evaluation, Item, Option, Questionnaire, RaterGroup, Unit

from evaluation.services import N_

BALLOT_COLUMNS = ["ballot_id", "evaluation_id", "unit", "group", "submitted_on", "item_position",
                  "item", "option", "text"]
#: Rows fetched from the database per round trip when streaming ballots.
BALLOT_BATCH = 2000


def left_out_of_raw_exports(campaign_id: int) -> tuple[list[int], int]:
    """Evaluations whose ballots the raw exports leave out, and how many ballots that is.

    A raw ballot names its unit and group, so the same disclosure rule as every
    figure (analysis/disclosure.py): a unit that is not judged, or that has a rater
    group below its minimum, is left out whole — leaving out only the small group
    would let its ballots be worked out as the unit's published figures minus the
    ballots exported.
    """
    rows = db.session.connection().execute(  # not session.execute: an export streams one query through it
        select(BallotTally.evaluation_id, Evaluation.unit_id, BallotTally.rater_group_id, BallotTally.n,
               Evaluation.threshold, Evaluation.min_ballots)
        .join(Evaluation, Evaluation.id == BallotTally.evaluation_id)
        .where(Evaluation.campaign_id == campaign_id, BallotTally.n > 0)).all()
    if not rows:
        return [], 0
    frame = pd.DataFrame(rows, columns=["evaluation_id", "unit_id", "group_id", "n_ballots", "threshold",
                                        "min_ballots"])
    evaluations = frame.drop_duplicates("evaluation_id")[["evaluation_id", "unit_id", "threshold", "min_ballots"]]
    shown = {e for e, _u in disclosure.breakdown_units(frame[["evaluation_id", "unit_id", "group_id", "n_ballots"]],
                                                        evaluations.reset_index(drop=True))}
    left_out = frame[~frame["evaluation_id"].isin(shown)]
    return sorted(set(int(e) for e in left_out["evaluation_id"])), int(left_out["n_ballots"].sum())


def left_out_note(n: int) -> str:
    """The line a raw export ends with when it left ballots out."""
    return gettext("另有 %(num)s 张测评票未导出:其单位票数不足,或有测评主体少于最低票数(保护测评人)", num=n)


def ballot_rows_query(campaign_id: int, questionnaire_id: int | None = None):
    """One row per stored answer of the campaign's ballots, as ids.

    Rows are ``(ballot_id, evaluation_id, rater_group_id, submitted_on, item_id,
    option_id, text)``: no code, no time of day (ballots hold neither). They come in
    the order of the answer table's primary key — random ballot id, then item —
    which reveals nothing about the order of arrival and lets the database stream
    them straight from its index (a merge join with the ballots) instead of sorting
    millions of rows before the first one. Names are added by :class:`_BallotNames`.
    """
    query = (
        select(Answer.ballot_id, Ballot.evaluation_id, Ballot.rater_group_id, Ballot.submitted_on,
               Answer.item_id, Answer.option_id, Answer.text)
        .join(Ballot, Ballot.id == Answer.ballot_id)
        .join(Evaluation, Evaluation.id == Ballot.evaluation_id)
        .where(Evaluation.campaign_id == campaign_id)
        .order_by(Answer.ballot_id, Answer.item_id, Answer.seq)
    )
    if questionnaire_id is not None:
        query = query.where(Evaluation.questionnaire_id == questionnaire_id)
    left_out, _ = left_out_of_raw_exports(campaign_id)
    if left_out:
        query = query.where(Ballot.evaluation_id.not_in(left_out))
    return query


class _BallotNames:
    """Unit, group, item and option names of a campaign, looked up once (small tables).

    Read on the session's connection so the streamed query stays the only
    ``session.execute`` of an export.
    """

    def __init__(self, campaign_id: int) -> None:
        connection = db.session.connection()
        in_campaign = select(Evaluation.questionnaire_id).where(Evaluation.campaign_id == campaign_id)
        self.unit = dict(connection.execute(
            select(Evaluation.id, Unit.name).join(Unit, Unit.id == Evaluation.unit_id)
            .where(Evaluation.campaign_id == campaign_id)).all())
        self.group = dict(connection.execute(
            select(RaterGroup.id, RaterGroup.name).where(RaterGroup.campaign_id == campaign_id)).all())
        self.item = {r.id: (r.position, r.text) for r in connection.execute(
            select(Item.id, Item.position, Item.text).where(Item.questionnaire_id.in_(in_campaign)))}
        self.option = dict(connection.execute(
            select(Option.id, Option.label).where(Option.scale_id.in_(
                select(Item.scale_id).where(Item.questionnaire_id.in_(in_campaign))))).all())


def ballot_csv_chunks(campaign_id: int, batch: int = BALLOT_BATCH) -> Iterator[str]:
    """The raw ballots CSV as text chunks: BOM and header, then one chunk per ``batch`` rows.

    Rows are fetched ``batch`` at a time (never all ballots in memory) and written with
    the quoting, CRLF line ends and neutralising of :func:`analysis.exports.csv_chunks`
    (the csv module directly: a DataFrame per batch cost more than the query).
    """
    yield next(csv_chunks(pd.DataFrame(columns=BALLOT_COLUMNS)))  # BOM + header
    names = _BallotNames(campaign_id)
    safe = {key: {k: neutralise(v) for k, v in table.items()} for key, table in
            (("unit", names.unit), ("group", names.group), ("option", names.option))}
    items = {k: (position, neutralise(text)) for k, (position, text) in names.item.items()}
    result = db.session.execute(ballot_rows_query(campaign_id).execution_options(yield_per=batch))
    for rows in result.partitions():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        for ballot_id, evaluation_id, group_id, day, item_id, option_id, text in rows:
            position, item = items[item_id]
            writer.writerow((ballot_id, evaluation_id, safe["unit"][evaluation_id], safe["group"][group_id], day,
                             position, item, safe["option"].get(option_id), neutralise(text)))
        yield buffer.getvalue()
    _, left_out = left_out_of_raw_exports(campaign_id)
    if left_out:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerow([neutralise(left_out_note(left_out))])
        yield buffer.getvalue()


#: The columns before the items in the raw ballots workbook, with their header labels (label, then key).
BALLOT_SHEET_LABELS = [("ballot_id", N_("测评票")), ("evaluation_id", N_("测评编号")), ("unit", N_("单位")),
                       ("group", N_("测评主体")), ("submitted_on", N_("提交日期"))]


def ballot_sheet_columns() -> list[str]:
    """The headers of those columns, 'label key', the label in the reader's language."""
    return [f"{gettext(label)} {key}" for key, label in BALLOT_SHEET_LABELS]


def _ballot_sheet_rows(campaign_id: int, questionnaire_id: int, names: _BallotNames,
                       columns: dict[int, int], batch: int) -> Iterator[list]:
    """One row per ballot of the campaign's evaluations using this questionnaire.

    Answers stream ``batch`` rows at a time, a ballot's answers together, and are
    folded into one row per ballot: the option chosen, or the text, in the item's
    column (``columns``: item id → column; several choices joined with "; ").
    """
    width = 5 + len(columns)
    current, row = None, None
    for ballot_id, evaluation_id, group_id, day, item_id, option_id, text in db.session.execute(
            ballot_rows_query(campaign_id, questionnaire_id).execution_options(yield_per=batch)):
        if ballot_id != current:
            if row is not None:
                yield row
            current = ballot_id
            row = [ballot_id, evaluation_id, names.unit[evaluation_id], names.group[group_id], day]
            row += [None] * (width - 5)
        value = names.option.get(option_id) if option_id is not None else text
        index = columns.get(item_id)
        if value is not None and index is not None:
            row[index] = value if row[index] is None else f"{row[index]}; {value}"
    if row is not None:
        yield row
    _, left_out = left_out_of_raw_exports(campaign_id)
    if left_out:
        yield [left_out_note(left_out)] + [None] * (width - 1)


def ballot_sheets(campaign_id: int, batch: int = BALLOT_BATCH) -> Iterator[tuple[str, list[str], Iterator[list]]]:
    """``(title, header, rows)`` per questionnaire used in the campaign, for :func:`stream_xlsx`."""
    questionnaires = db.session.scalars(
        select(Questionnaire).where(Questionnaire.id.in_(
            select(Evaluation.questionnaire_id).where(Evaluation.campaign_id == campaign_id)))
        .order_by(Questionnaire.id)).all()
    if not questionnaires:
        yield gettext("测评票"), ballot_sheet_columns(), iter(())
        return
    names = _BallotNames(campaign_id)
    for questionnaire in questionnaires:
        items = list(questionnaire.items)
        title = questionnaire.key + (f" v{questionnaire.version}" if questionnaire.version > 1 else "")
        header = ballot_sheet_columns() + [f"{item.position}. {item.text}" for item in items]
        columns = {item.id: 5 + i for i, item in enumerate(items)}
        yield title, header, _ballot_sheet_rows(campaign_id, questionnaire.id, names, columns, batch)
