"""What the issue-4 walk-through asked of bulk creation: deactivated units left out (and said so),
and one first-round evaluation per unit and questionnaire even when two organisers create at once.

The database enforces the second rule (``uq_evaluation_first_round``, migration 0006); make-up rounds
and revised-report rounds carry ``previous_id`` and stay allowed.
"""
from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from extensions import db
from models import BallotCode, Evaluation, EvaluationStatus, Unit
from tests.evaluation.html_forms import post_confirmed
from tests.evaluation.manage_data import audit_rows, build_units, login, make_user

RACE = "其他组织者刚刚为部分单位建立了同一测评表的测评,本次未建立任何测评"


@pytest.fixture()
def org(app, client):
    """A campaign of 6 units over two committees and a signed-in organiser."""
    data = build_units(app, n_units=6)
    make_user(app, "org")
    login(client, "org")
    return data


def _create(client, data, **overrides):
    form = {"questionnaire": "satisfaction", "scope": "all", "groups": list(data["groups"].values()),
            "threshold": "60", "min_ballots": "8", **overrides}
    return post_confirmed(client, f"/admin/campaigns/{data['campaign']}/evaluations/new", form)


def _count(app, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Evaluation).where(*where))


def test_deactivated_units_get_no_evaluation_and_the_page_says_so(app, client, org):
    gone = org["units"][0]
    assert post_confirmed(client, f"/admin/units/{gone}/active", {"active": "0"}).status_code == 302
    response = _create(client, org)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已建立 5 个测评,跳过 0 个" in page and "另有 1 个已停用的单位未建立测评" in page
    assert _count(app, Evaluation.unit_id == gone) == 0 and _count(app) == 5
    assert json.loads(audit_rows(app, "evaluations_create")[0].detail)["inactive"] == 1


def test_bulk_codes_skip_a_unit_deactivated_after_its_evaluation_was_made(app, client, org):
    _create(client, org, open_now="y")
    gone = org["units"][1]
    post_confirmed(client, f"/admin/units/{gone}/active", {"active": "0"})
    response = client.post(f"/admin/campaigns/{org['campaign']}/codes", data={
        "questionnaire": "satisfaction", "scope": "all", "groups": [org["groups"]["党员"]], "count": "2",
        "nonce": "n1", "output": "csv", "confirm": "10"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    with app.app_context():
        issued = dict(db.session.execute(select(Evaluation.unit_id, func.count()).join(
            BallotCode, BallotCode.evaluation_id == Evaluation.id).group_by(Evaluation.unit_id)).all())
    assert gone not in issued and len(issued) == 5 and set(issued.values()) == {2}


def test_cli_refuses_a_deactivated_unit_and_a_second_first_round(app, runner, org):
    with app.app_context():
        db.session.get(Unit, org["units"][0]).active = False
        db.session.commit()
    result = runner.invoke(args=["evaluations", "create", "--unit", str(org["units"][0]),
                                 "--questionnaire", "satisfaction"])
    assert result.exit_code != 0 and "已停用" in result.output
    args = ["evaluations", "create", "--unit", str(org["units"][1]), "--questionnaire", "satisfaction"]
    assert runner.invoke(args=args).exit_code == 0
    result = runner.invoke(args=args)
    assert result.exit_code != 0 and "已有此测评表的测评" in result.output and "Traceback" not in result.output
    assert _count(app) == 1


def test_the_database_allows_one_first_round_but_any_later_round(app, org):
    from surveys.catalog import latest

    unit = org["units"][0]
    with app.app_context():
        questionnaire_id = latest("satisfaction").id
        row = {"campaign_id": org["campaign"], "unit_id": unit, "questionnaire_id": questionnaire_id}
        first = Evaluation(**row)
        db.session.add(first)
        db.session.commit()
        db.session.add(Evaluation(**row))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        makeup = Evaluation(**row, previous_id=first.id)  # 补课: the same unit and questionnaire again
        db.session.add(makeup)
        db.session.commit()
        db.session.add(Evaluation(**row, previous_id=makeup.id))  # and a third round after that
        db.session.commit()
    assert _count(app, Evaluation.unit_id == unit) == 3


def test_a_lost_race_is_a_clear_chinese_error_not_a_500(app, client, org, monkeypatch):
    """The other organiser's create committed after this one read which units were taken."""
    import evaluation.campaigns.bulk as bulk

    assert _create(client, org).status_code == 302
    monkeypatch.setattr(bulk, "existing_unit_ids", lambda *args: set())
    response = _create(client, org, open_now="y")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and RACE in page
    assert _count(app) == 6 and _count(app, Evaluation.status == EvaluationStatus.OPEN) == 0
    assert len(audit_rows(app, "evaluations_create")) == 1  # the refused attempt left nothing behind
    monkeypatch.undo()
    again = _create(client, org)
    assert "已建立 0 个测评,跳过 6 个" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_two_concurrent_bulk_creates_make_one_evaluation_per_unit(app, org, monkeypatch):
    """Two threads read "no unit has one" before either writes; exactly one of them creates."""
    import evaluation.campaigns.bulk as bulk
    from evaluation.campaigns.bulk import BulkSpec, create_evaluations
    from evaluation.services import ServiceError

    both_read = threading.Barrier(2, timeout=30)
    read = bulk.existing_unit_ids

    def read_then_wait(*args):
        taken = read(*args)
        both_read.wait()
        return taken

    monkeypatch.setattr(bulk, "existing_unit_ids", read_then_wait)
    outcomes: list = []

    def organiser() -> None:
        with app.app_context():
            try:
                spec = BulkSpec(org["campaign"], "satisfaction", list(org["groups"].values()))
                outcomes.append(create_evaluations(spec).created)
            except ServiceError as error:
                outcomes.append(str(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=organiser) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == 2 and 6 in outcomes
    [refused] = [o for o in outcomes if o != 6]
    assert RACE in refused
    with app.app_context():
        per_unit = db.session.execute(select(Evaluation.unit_id, func.count()).group_by(Evaluation.unit_id)).all()
    assert len(per_unit) == 6 and {n for _, n in per_unit} == {1}
