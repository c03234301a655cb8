"""The sealed ballot box: what a ballot's transaction writes, sealing, batches of k, close, damage, the day.

Each test plays an attack or a fault against one protection of surveys/box.py,
surveys/seal.py and surveys/ballots.py, and fails if that protection is removed.
The forensic attacks on the database files (PostgreSQL system columns, SQLite's
WAL and cell order) are in test_box_forensics.py.
"""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import event, func, select, text, update

from extensions import db
from models import AuditLog, Ballot, BallotTally, Evaluation, SealedBallot
from surveys import box
from surveys.seal import Damaged, unseal
from tests.evaluation.results_data import make_token


def bearer(token: str) -> dict:
    """The API's Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def vote(client, code: str, data: dict):
    """Submit one ballot the way the rater's page does (the code in the body); returns the response."""
    return client.post("/v", data={**data, "code": code, "ballot": "1"})


def _sealed(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SealedBallot))


def _counted(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Ballot))


# --- the redeeming transaction ----------------------------------------------------------------


def _every_row(app) -> dict[str, set]:
    """Every row of every table, as a set per table."""
    with app.app_context():
        return {table.name: {tuple(map(repr, row)) for row in db.session.execute(select(table))}
                for table in db.metadata.sorted_tables}


def test_a_ballots_transaction_writes_only_the_used_code_and_one_sealed_row(app, client, campaign, issue,
                                                                           answers_for):
    """What a ballot changes in the database, table by table: the code's status and one sealed row, nothing else."""
    code = issue(campaign["evaluation"])[0]
    data = answers_for(campaign["evaluation"], choice=2, text="秘密意见")
    before = _every_row(app)
    writes = []
    with app.app_context():
        engine = db.engine

        def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
            # Every data-changing clause, a PostgreSQL WITH's included.
            writes.extend(f"{verb} {table}" for verb, table in re.findall(
                r"\b(UPDATE|INSERT INTO|DELETE FROM)\s+\"?(\w+)", statement, flags=re.IGNORECASE))

        event.listen(engine, "before_cursor_execute", record)
        try:
            assert vote(client, code, data).status_code == 303
        finally:
            event.remove(engine, "before_cursor_execute", record)
    after = _every_row(app)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"ballot_code", "ballot_box"}, changed
    assert len(after["ballot_code"] - before["ballot_code"]) == 1 and len(after["ballot_box"]) == 1
    # No statement even tries another table: a paper entry held for the code is the one other thing removed.
    assert set(writes) <= {"UPDATE ballot_code", "INSERT INTO ballot_box", "DELETE FROM paper_entry"}, writes
    assert _sealed(app) == 1 and _counted(app) == 0


def test_sealed_rows_are_ciphertext_of_one_length_whatever_the_comment(app, client, campaign, issue, answers_for):
    """The box row's size must not give away a comment's length (it could be matched once counted)."""
    comments = [None, "短", "较长的意见" * 40, "意" * app.config["TEXT_ANSWER_MAX"]]
    for code, comment in zip(issue(campaign["evaluation"], "党员", len(comments)), comments):
        assert vote(client, code, answers_for(campaign["evaluation"], choice=1, text=comment)).status_code == 303
    with app.app_context():
        rows = db.session.execute(select(SealedBallot.id, SealedBallot.sealed, SealedBallot.evaluation_id,
                                         SealedBallot.rater_group_id)).all()
        key = app.config["BALLOT_KEY"]
    assert len(rows) == 4
    assert len({len(r.sealed) for r in rows}) == 1, sorted(len(r.sealed) for r in rows)
    for row in rows:
        assert "较长".encode() not in bytes(row.sealed) and "意意".encode() not in bytes(row.sealed)
        day, answers = unseal(key, row.id, row.evaluation_id, row.rater_group_id, row.sealed)
        assert len([a for a in answers if a[2] is not None]) == 6
        with pytest.raises(Damaged):  # another key opens nothing
            unseal("another-key", row.id, row.evaluation_id, row.rater_group_id, row.sealed)
        with pytest.raises(Damaged):  # nor may a sealed ballot be moved to another group
            unseal(key, row.id, row.evaluation_id, row.rater_group_id + 1, row.sealed)


# --- counting in batches of k -------------------------------------------------------------------


def test_counts_add_batches_of_k_and_leave_k_sealed(app, client, campaign, issue, answers_for, count_box):
    evaluation = campaign["evaluation"]  # min_ballots 8: k = 8
    observed = []
    for i, code in enumerate(issue(evaluation, "党员", 30)):
        assert vote(client, code, answers_for(evaluation, choice=i % 4)).status_code == 303
        observed.append((_counted(app), _sealed(app)))
    assert observed[14] == (0, 15)           # 15 < 2k: nothing counted
    assert observed[15] == (8, 8)            # the 16th completes 2k: all but k counted
    assert observed[-1] == (16, 14)
    counted = sorted({c for c, _ in observed})
    assert all(b - a >= 8 for a, b in zip(counted, counted[1:])), counted
    assert count_box(evaluation) == 14       # closing counts the rest (≥ k)
    assert (_counted(app), _sealed(app)) == (30, 0)
    with app.app_context():
        from surveys.tallies import differences

        assert differences(db.session) == []
        assert db.session.scalar(select(BallotTally.n)) == 30


def test_published_figures_move_only_in_steps_of_k_for_every_role(app, client, campaign, issue, answers_for):
    """Reload differencing: read the API before and after each colleague votes, as organiser, viewer and liaison."""
    evaluation = campaign["evaluation"]
    tokens = {"organiser": make_token(app, "org", "organiser"), "viewer": make_token(app, "view", "viewer"),
              "liaison": make_token(app, "liaison", "liaison", campaign["units"][0])}

    def figures(token: str) -> str:
        response = client.get(f"/api/v1/evaluations/{evaluation}/results", headers=bearer(token))
        assert response.status_code == 200
        return json.dumps(response.get_json()["units"], sort_keys=True)

    seen = {role: [figures(token)] for role, token in tokens.items()}
    totals = [0]
    for i, code in enumerate(issue(evaluation, "党员", 20)):
        assert vote(client, code, answers_for(evaluation, choice=i % 4, text=f"第{i}位")).status_code == 303
        totals.append(_counted(app))
        for role, token in tokens.items():
            seen[role].append(figures(token))
    for role, pages in seen.items():
        changes = [totals[i + 1] - totals[i] for i in range(len(pages) - 1) if pages[i + 1] != pages[i]]
        assert changes, f"{role}: a counted batch must show"
        assert all(step >= 8 for step in changes), (role, changes)


# --- close, settle, window -----------------------------------------------------------------------


def test_close_from_the_cli_counts_the_rest_and_audits(app, client, runner, campaign, issue, answers_for):
    evaluation = campaign["evaluation"]
    for code in issue(evaluation, "群众代表", 5):
        vote(client, code, answers_for(evaluation))
    result = runner.invoke(args=["evaluations", "close", str(evaluation)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{evaluation}\t5\n"
    assert (_counted(app), _sealed(app)) == (5, 0)
    with app.app_context():
        assert db.session.get(Evaluation, evaluation).status.value == "closed"
        assert db.session.scalar(select(AuditLog.username).where(AuditLog.action == "evaluation_close")) == "cli"
    unknown = runner.invoke(args=["evaluations", "close", "99999"])
    assert unknown.exit_code != 0 and "99999" in unknown.output


def test_a_ballot_after_the_window_is_refused_and_the_box_settles(app, client, campaign, issue, answers_for):
    """The claim checks the window itself: a form loaded in time but posted late stores nothing."""
    evaluation = campaign["evaluation"]
    codes = issue(evaluation, "党员", 4)
    for code in codes[:3]:
        assert vote(client, code, answers_for(evaluation)).status_code == 303
    assert client.post("/v", data={"code": codes[3]}, follow_redirects=True).status_code == 200
    with app.app_context():
        db.session.execute(update(Evaluation).where(Evaluation.id == evaluation)
                           .values(closes_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)))
        db.session.commit()
        from surveys.ballots import submit_ballot, SubmitResult
        from surveys.codes import hash_code, normalise_code

        late = submit_ballot(hash_code(normalise_code(codes[3]), app.config["CODE_KEY"]), evaluation,
                             campaign["groups"]["党员"], [])
    assert late is SubmitResult.REJECTED
    assert _sealed(app) == 3
    with app.app_context():
        assert box.settle() == {evaluation: 3}
    assert (_counted(app), _sealed(app)) == (3, 0)


def test_organiser_pages_settle_a_box_whose_window_ended(app, client, campaign, issue, answers_for):
    from tests.evaluation.results_data import login
    from evaluation.services import create_user

    evaluation = campaign["evaluation"]
    for code in issue(evaluation, "党员", 2):
        vote(client, code, answers_for(evaluation))
    with app.app_context():
        create_user("org", "correct horse battery", "organiser")
        db.session.execute(update(Evaluation).where(Evaluation.id == evaluation)
                           .values(closes_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
        db.session.commit()
    client.post("/login", data={"username": "org", "password": "correct horse battery"})
    assert client.get("/admin/").status_code == 200
    assert (_counted(app), _sealed(app)) == (2, 0)


def test_makeup_is_refused_while_ballots_are_sealed(app, client, campaign, issue, answers_for):
    from evaluation.results.makeup import decide_makeup
    from evaluation.services import ServiceError

    evaluation = campaign["evaluation"]
    for code in issue(evaluation, "党员", 3):
        vote(client, code, answers_for(evaluation, choice=3))
    with app.app_context(), pytest.raises(ServiceError, match="3 张测评票封存未计"):
        decide_makeup(evaluation, None)


# --- damage and faults ---------------------------------------------------------------------------


def test_a_tampered_or_moved_box_row_is_never_counted_and_is_audited(app, client, campaign, issue, answers_for,
                                                                    count_box):
    evaluation = campaign["evaluation"]
    for i, code in enumerate(issue(evaluation, "党员", 4)):
        vote(client, code, answers_for(evaluation, choice=i % 2))
    with app.app_context():
        first, second = db.session.scalars(select(SealedBallot.id).order_by(SealedBallot.id).limit(2)).all()
        flipped = bytearray(db.session.get(SealedBallot, first).sealed)
        flipped[-1] ^= 1
        db.session.execute(update(SealedBallot).where(SealedBallot.id == first).values(sealed=bytes(flipped)))
        # moved to another group: same ciphertext, wrong associated data
        db.session.execute(update(SealedBallot).where(SealedBallot.id == second)
                           .values(rater_group_id=campaign["groups"]["群众代表"]))
        db.session.commit()
    assert count_box(evaluation) == 2
    with app.app_context():
        damaged = db.session.scalars(select(SealedBallot.id).where(SealedBallot.damaged.is_(True))).all()
        audit = db.session.execute(select(AuditLog.action, AuditLog.detail)
                                   .where(AuditLog.action == "box_damaged")).all()
    assert sorted(damaged) == sorted([first, second])
    assert len(audit) == 2 and all('"count": 1' in detail for _a, detail in audit)
    assert _counted(app) == 2
    assert count_box(evaluation) == 0  # never counted later either


def test_a_count_that_fails_half_way_leaves_every_ballot_sealed(app, client, campaign, issue, answers_for,
                                                               monkeypatch):
    """All or nothing: a count dying after its INSERTs rolls back, and nothing is both sealed and counted."""
    evaluation = campaign["evaluation"]
    for code in issue(evaluation, "党员", 5):
        vote(client, code, answers_for(evaluation))

    def die(*args, **kwargs):
        raise RuntimeError("power cut after the inserts")

    monkeypatch.setattr("surveys.tallies.add_ballots", die)
    with app.app_context(), pytest.raises(RuntimeError):
        box.count(evaluation, campaign["groups"]["党员"], final=True)
    assert (_counted(app), _sealed(app)) == (0, 5)
    monkeypatch.undo()
    with app.app_context():
        db.session.rollback()
        assert box.close([evaluation]) == {evaluation: 5}
    assert (_counted(app), _sealed(app)) == (5, 0)


# --- the day -------------------------------------------------------------------------------------


@pytest.mark.parametrize("moment, expected", [
    (dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.timezone.utc), dt.date(2026, 3, 2)),   # 07:30 in Beijing
    (dt.datetime(2026, 3, 1, 15, 59, tzinfo=dt.timezone.utc), dt.date(2026, 3, 1)),   # 23:59 in Beijing
    (dt.datetime(2026, 3, 1, 16, 0, tzinfo=dt.timezone.utc), dt.date(2026, 3, 2)),    # 00:00 in Beijing
])
def test_a_ballot_is_dated_with_the_raters_day_in_the_campaign_zone(app, client, campaign, issue, answers_for,
                                                                   count_box, monkeypatch, moment, expected):
    assert app.config["TIMEZONE"] == "Asia/Shanghai"
    monkeypatch.setattr("surveys.ballots._now", lambda: moment)
    assert vote(client, issue(campaign["evaluation"])[0], answers_for(campaign["evaluation"])).status_code == 303
    monkeypatch.undo()
    count_box(campaign["evaluation"])
    with app.app_context():
        assert db.session.scalar(text("SELECT submitted_on FROM ballot")) in (expected, expected.isoformat())


def test_results_say_how_many_ballots_wait_sealed(app, client, campaign, issue, answers_for):
    from evaluation.services import create_user

    evaluation = campaign["evaluation"]
    for code in issue(evaluation, "党员", 3):
        vote(client, code, answers_for(evaluation))
    with app.app_context():
        create_user("org", "correct horse battery", "organiser")
    token = make_token(app, "org")
    document = client.get(f"/api/v1/evaluations/{evaluation}/results", headers=bearer(token)).get_json()
    assert document["sealed"] == 3 and document["units"][0]["n_ballots"] == 0
    client.post("/login", data={"username": "org", "password": "correct horse battery"})
    page = client.get(f"/admin/evaluations/{evaluation}").get_data(as_text=True)
    assert "另有 3 张测评票已封存、尚未计入结果:每满 8 张打乱后计入一批" in page
