"""The organiser CLI through Click's runner: demo, evaluations, codes, users.

Machine-readable output goes to stdout and human messages to stderr (Click 8.2+
keeps them apart in ``result.stdout`` / ``result.stderr``), so scripts can pipe
codes and ids straight into other commands.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import func, select

from extensions import db
from models import (
    Answer, Ballot, BallotCode, Campaign, CodeBatch, CodeStatus, Evaluation, EvaluationStatus, Option, Polarity,
    Questionnaire, RaterGroup, Unit, UnitKind, User,
)
from evaluation.demo.campaign import DISSATISFIED
from evaluation.demo.quiz import N_QUIZ_UNITS
from surveys.catalog import catalog_files
from surveys.codes import ALPHABET

ROOT = Path(__file__).resolve().parents[2]
PRINTED = re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$")
N_REVIEWS = 4  # the demo's analysis-report rounds (evaluation.demo.work._reports), one review evaluation each


def _ok(result):
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


def _refused(result, *phrases):
    assert result.exit_code != 0, result.stdout
    assert result.stdout == ""
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    return result


# --- demo ---------------------------------------------------------------------------------------


@pytest.fixture()
def demo_app(fresh_database_url):
    """An app on an empty database, as on a fresh machine: ``demo`` migrates it first."""
    from app import create_app

    application = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database_url})
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _table_counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def _flagged_units(evaluation_ids) -> set[int]:
    """Evaluations where a strict majority of rated items have a positive rate below their threshold."""
    rows = db.session.execute(
        select(Ballot.evaluation_id, Answer.item_id, Option.polarity, func.count())
        .join(Answer, Answer.ballot_id == Ballot.id).join(Option, Option.id == Answer.option_id)
        .group_by(Ballot.evaluation_id, Answer.item_id, Option.polarity)
    ).all()
    tally: dict = defaultdict(lambda: defaultdict(lambda: {Polarity.POSITIVE: 0, Polarity.NEGATIVE: 0}))
    for evaluation_id, item_id, polarity, n in rows:
        if polarity is not Polarity.UNKNOWN:
            tally[evaluation_id][item_id][polarity] += n
    flagged = set()
    for evaluation_id in evaluation_ids:
        items = tally[evaluation_id]
        low = sum(c[Polarity.POSITIVE] / (c[Polarity.POSITIVE] + c[Polarity.NEGATIVE]) < 0.60 for c in items.values())
        if items and low * 2 > len(items):
            flagged.add(evaluation_id)
    return flagged


def test_demo_builds_the_seed_campaign_and_is_idempotent(demo_app):
    runner = demo_app.test_cli_runner()
    first = _ok(runner.invoke(args=["demo"]))
    assert "demo" in first.stderr and "ceping-demo" in first.stderr  # how to sign in
    assert "stages, steps" in first.stderr and "补课单位" in first.stderr  # the three stages' work (demo_work)
    with demo_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Campaign)) == 1
        units = db.session.scalars(select(Unit)).all()
        by_kind = defaultdict(list)
        for unit in units:
            by_kind[unit.kind].append(unit)
        assert len(by_kind[UnitKind.COMMITTEE]) == 14
        assert len(by_kind[UnitKind.UNIT]) == 272
        assert len(by_kind[UnitKind.BRANCH]) == 440
        assert sum(u.members for u in by_kind[UnitKind.UNIT]) == 7314
        assert sum(u.members for u in by_kind[UnitKind.COMMITTEE]) == 7314
        assert sum(u.members for u in by_kind[UnitKind.BRANCH]) == 7314
        assert all(u.parent.kind is UnitKind.COMMITTEE for u in by_kind[UnitKind.UNIT])
        assert all(b.parent.kind is UnitKind.UNIT for b in by_kind[UnitKind.BRANCH])
        assert sorted(db.session.scalars(select(RaterGroup.name))) == sorted(["党员", "群众代表", "服务对象"])

        everything = db.session.scalars(select(Evaluation)).all()
        # First rounds of the satisfaction evaluation, and the make-up unit's second round (demo_work).
        evaluations = [e for e in everything if e.questionnaire.key == "satisfaction" and e.previous_id is None]
        [round_two] = [e for e in everything if e.questionnaire.key == "satisfaction" and e.previous_id is not None]
        quizzes = [e for e in everything if e.questionnaire.key == "learning_test"]  # 学习成果测试
        reviews = sorted((e for e in everything if e.questionnaire.key == "report_review"), key=lambda e: e.id)
        assert len(evaluations) == 272 and len(quizzes) == N_QUIZ_UNITS and len(reviews) == N_REVIEWS
        assert len(everything) == len(evaluations) + 1 + len(quizzes) + len(reviews)
        assert {e.unit_id for e in evaluations} == {u.id for u in by_kind[UnitKind.UNIT]}
        # Closed: the made-up unit's first round, and the review rounds that have their verdict.
        closed = {e.id for e in everything if e.status is EvaluationStatus.CLOSED}
        assert closed == {round_two.previous_id} | {e.id for e in reviews[:3]}
        assert all(e.status is EvaluationStatus.OPEN for e in everything if e.id not in closed)
        assert db.session.scalar(select(func.count()).select_from(Questionnaire)) == len(catalog_files())

        n_ballots = db.session.scalar(select(func.count()).select_from(Ballot))
        assert n_ballots > 272 * 8
        used = db.session.scalar(select(func.count()).select_from(BallotCode)
                                 .where(BallotCode.status == CodeStatus.USED))
        assert used == n_ballots  # every simulated ballot used up one code
        flagged = _flagged_units([e.id for e in evaluations])
        flagged_codes = {e.unit.code for e in evaluations if e.id in flagged}
        # A few units are clearly dissatisfied, all from the demo's own list, and no others.
        # (Not all six of that list: by chance U041's simulated ballots put only 3 of 6 items below 60%.)
        assert len(flagged_codes) >= 3, sorted(flagged_codes)
        assert flagged_codes <= {f"U{n:03d}" for n in DISSATISFIED}, sorted(flagged_codes)
        assert db.session.scalars(select(User.username)).all() == ["demo"]
        before = _table_counts()

    second = _ok(runner.invoke(args=["demo"]))
    assert "already exists" in second.stderr and "stages, steps" not in second.stderr
    with demo_app.app_context():
        assert _table_counts() == before

    listed = _ok(runner.invoke(args=["evaluations", "list"])).stdout.splitlines()
    assert len(listed) == 272 + 1 + N_QUIZ_UNITS + N_REVIEWS
    assert sum(int(line.split("\t")[4]) for line in listed) == n_ballots

    client = demo_app.test_client()  # the sign-in the command printed works
    assert client.post("/login", data={"username": "demo", "password": "ceping-demo"}).status_code == 302
    assert "演示" in client.get("/admin/").get_data(as_text=True)
    with demo_app.app_context():
        campaign_id = db.session.scalar(select(Campaign.id))
    quiz = client.get(f"/admin/campaigns/{campaign_id}/quiz").get_data(as_text=True)  # the learning test has data
    assert len(re.findall(r'href="/admin/evaluations/\d+/quiz"', quiz)) == N_QUIZ_UNITS and "fig-quiz-units" in quiz


def test_init_db_migrates_and_loads_the_catalog(demo_app):
    result = _ok(demo_app.test_cli_runner().invoke(args=["init-db"]))
    assert result.stdout == ""
    with demo_app.app_context():
        assert sorted(db.session.scalars(select(Questionnaire.key))) == [
            "learning_test", "meeting", "report_review", "satisfaction"]
    _ok(demo_app.test_cli_runner().invoke(args=["init-db"]))  # a second run is harmless
    with demo_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Questionnaire)) == 4


# --- evaluations list / create -----------------------------------------------------------------


def test_evaluations_list_is_tab_separated_with_ballot_counts(app, runner, client, campaign, issue, answers_for):
    codes = issue(campaign["evaluation"], "党员", 3)
    for code in codes[:2]:
        assert client.post("/v", data={**(answers_for(campaign["evaluation"])), "code": code, "ballot": "1"}).status_code == 303
    draft = _ok(runner.invoke(args=["evaluations", "create", "--unit", str(campaign["units"][1]),
                                    "--questionnaire", "meeting"])).stdout.strip()
    lines = _ok(runner.invoke(args=["evaluations", "list"])).stdout.splitlines()
    assert lines == [
        f"{campaign['evaluation']}\t第一单位\tsatisfaction\topen\t2",
        f"{draft}\t第二单位\tmeeting\tdraft\t0",
    ]


def test_evaluations_list_filters_by_campaign(app, runner, campaign):
    with app.app_context():
        other = Campaign(name="另一个活动")
        unit = Unit(campaign=other, code="X1", name="别的单位", kind=UnitKind.UNIT, members=5)
        other.rater_groups.append(RaterGroup(name="党员"))
        db.session.add_all([other, unit])
        db.session.commit()
        other_id, unit_id = other.id, unit.id
    _ok(runner.invoke(args=["evaluations", "create", "--unit", str(unit_id), "--questionnaire", "satisfaction"]))
    mine = _ok(runner.invoke(args=["evaluations", "list", "--campaign", str(campaign["campaign"])])).stdout
    theirs = _ok(runner.invoke(args=["evaluations", "list", "--campaign", str(other_id)])).stdout
    assert mine.splitlines() == [f"{campaign['evaluation']}\t第一单位\tsatisfaction\topen\t0"]
    assert len(theirs.splitlines()) == 1 and "别的单位" in theirs


def test_evaluations_list_on_an_empty_database_prints_nothing(runner):
    assert _ok(runner.invoke(args=["evaluations", "list"])).stdout == ""


def test_evaluations_create_prints_the_new_id(app, runner, campaign):
    result = _ok(runner.invoke(args=[
        "evaluations", "create", "--unit", str(campaign["units"][1]), "--questionnaire", "report_review",
        "--groups", "党员,群众代表", "--threshold", "0.7", "--min-ballots", "5", "--open",
    ]))
    assert re.fullmatch(r"\d+\n", result.stdout)
    with app.app_context():
        evaluation = db.session.get(Evaluation, int(result.stdout))
        assert evaluation.unit_id == campaign["units"][1]
        assert evaluation.questionnaire.key == "report_review"
        assert [g.name for g in evaluation.rater_groups] == ["党员", "群众代表"]
        assert evaluation.threshold == pytest.approx(0.7) and evaluation.min_ballots == 5
        assert evaluation.status is EvaluationStatus.OPEN
        assert evaluation.questionnaire.frozen is True


def test_evaluations_create_defaults(app, runner, campaign):
    result = _ok(runner.invoke(args=["evaluations", "create", "--unit", str(campaign["units"][1]),
                                     "--questionnaire", "meeting", "--groups", "服务对象,党员"]))
    with app.app_context():
        evaluation = db.session.get(Evaluation, int(result.stdout))
        assert evaluation.status is EvaluationStatus.DRAFT
        assert evaluation.threshold == pytest.approx(0.60) and evaluation.min_ballots == 8
        assert {g.name for g in evaluation.rater_groups} == {"服务对象", "党员"}
    # Another unit: a second first round of "meeting" for units[1] is refused (uq_evaluation_first_round).
    without_groups = _ok(runner.invoke(args=["evaluations", "create", "--unit", str(campaign["units"][0]),
                                             "--questionnaire", "meeting"]))
    with app.app_context():
        groups = db.session.get(Evaluation, int(without_groups.stdout)).rater_groups
        assert [g.name for g in groups] == ["党员", "群众代表", "服务对象"]


@pytest.mark.parametrize("args, phrase", [
    (["--unit", "999999", "--questionnaire", "satisfaction"], "No unit with id 999999"),
    (["--unit", "{unit}", "--questionnaire", "nope"], "No questionnaire with key 'nope'"),
    (["--unit", "{unit}", "--questionnaire", "satisfaction", "--groups", "党员,干部"], "Unknown rater group(s): 干部"),
    (["--unit", "{unit}", "--questionnaire", "satisfaction", "--threshold", "1.5"], "threshold"),
    (["--unit", "{unit}", "--questionnaire", "satisfaction", "--threshold", "0"], "threshold"),
    (["--unit", "{unit}", "--questionnaire", "satisfaction", "--min-ballots", "0"], "min_ballots"),
])
def test_evaluations_create_refuses_bad_input(runner, campaign, count_rows, args, phrase):
    args = [a.replace("{unit}", str(campaign["units"][1])) for a in args]
    _refused(runner.invoke(args=["evaluations", "create", *args]), phrase)
    assert count_rows(Evaluation) == 1


def test_evaluations_create_requires_unit_and_questionnaire(runner):
    result = runner.invoke(args=["evaluations", "create", "--questionnaire", "satisfaction"])
    assert result.exit_code == 2 and "--unit" in result.stderr and result.stdout == ""


# --- codes issue ------------------------------------------------------------------------------


def test_codes_issue_prints_exactly_n_codes_and_nothing_else(app, runner, client, campaign, count_rows):
    result = _ok(runner.invoke(args=["codes", "issue", str(campaign["evaluation"]), "--group", "群众代表",
                                     "--count", "7"]))
    assert result.stdout.endswith("\n") and not result.stdout.endswith("\n\n")
    codes = result.stdout.splitlines()
    assert len(codes) == 7 and len(set(codes)) == 7
    assert all(PRINTED.match(c) and set(c.replace("-", "")) <= set(ALPHABET) for c in codes)
    assert "7" in result.stderr  # the human summary goes to stderr
    assert count_rows(BallotCode, BallotCode.rater_group_id == campaign["groups"]["群众代表"],
                      BallotCode.status == CodeStatus.UNUSED) == 7
    assert count_rows(CodeBatch) == 1
    page = client.post("/v", data={"code": codes[0]}, follow_redirects=True)
    assert page.status_code == 200 and "群众代表" in page.get_data(as_text=True)


@pytest.mark.parametrize("args, phrase", [
    (["999999", "--group", "党员", "--count", "3"], "No evaluation with id 999999"),
    (["{ev}", "--group", "干部", "--count", "3"], "no rater group '干部'"),
    (["{ev}", "--group", "党员", "--count", "0"], "Count must be"),
    (["{ev}", "--group", "党员", "--count", "5001"], "Count must be"),
])
def test_codes_issue_refuses_bad_input(runner, campaign, count_rows, args, phrase):
    args = [a.replace("{ev}", str(campaign["evaluation"])) for a in args]
    _refused(runner.invoke(args=["codes", "issue", *args]), phrase)
    assert count_rows(BallotCode) == 0 and count_rows(CodeBatch) == 0


def test_codes_issue_for_a_group_not_in_the_evaluation(app, runner, campaign):
    made = _ok(runner.invoke(args=["evaluations", "create", "--unit", str(campaign["units"][1]),
                                   "--questionnaire", "meeting", "--groups", "党员"])).stdout.strip()
    _refused(runner.invoke(args=["codes", "issue", made, "--group", "服务对象", "--count", "2"]),
             "服务对象", "it has: 党员")


# --- users create -----------------------------------------------------------------------------


def _can_sign_in(app, username: str, password: str) -> bool:
    response = app.test_client().post("/login", data={"username": username, "password": password})
    return response.status_code == 302


def test_users_create_with_password_option(app, runner):
    result = _ok(runner.invoke(args=["users", "create", "alice", "--role", "organiser", "--password", "s3cret-pass"]))
    assert result.stdout == ""
    assert "alice" in result.stderr
    with app.app_context():
        user = db.session.scalars(select(User)).one()
        assert user.username == "alice" and user.role.value == "organiser"
        assert "s3cret-pass" not in user.password_hash
    assert _can_sign_in(app, "alice", "s3cret-pass")
    assert not _can_sign_in(app, "alice", "wrong-pass")


def test_users_create_prompts_for_the_password(app, runner):
    result = _ok(runner.invoke(args=["users", "create", "bob", "--role", "viewer"],
                               input="prompted-pw\nprompted-pw\n"))
    assert "prompted-pw" not in result.stdout + result.stderr  # hidden input is not echoed
    with app.app_context():
        assert db.session.scalars(select(User.role)).one().value == "viewer"
    assert _can_sign_in(app, "bob", "prompted-pw")


def test_users_create_prompt_needs_matching_confirmation(app, runner, count_rows):
    result = runner.invoke(args=["users", "create", "carol"], input="first-password\nsecond-password\n")
    assert result.exit_code != 0
    assert count_rows(User) == 0


@pytest.mark.parametrize("args, phrase", [
    (["dave", "--password", "short"], "at least 8"),
    (["erin", "--role", "liaison", "--password", "long-enough"], "--unit"),
    (["erin", "--role", "liaison", "--unit", "999999", "--password", "long-enough"], "--unit"),
])
def test_users_create_refuses_bad_input(runner, count_rows, args, phrase):
    _refused(runner.invoke(args=["users", "create", *args]), phrase)
    assert count_rows(User) == 0


def test_users_create_refuses_a_duplicate(runner, count_rows):
    _ok(runner.invoke(args=["users", "create", "frank", "--password", "password-1"]))
    _refused(runner.invoke(args=["users", "create", "frank", "--password", "password-2"]), "already exists")
    assert count_rows(User) == 1


def test_users_create_liaison_with_unit(app, runner, campaign):
    _ok(runner.invoke(args=["users", "create", "liaison1", "--role", "liaison", "--unit",
                            str(campaign["units"][0]), "--password", "liaison-pw"]))
    with app.app_context():
        assert db.session.scalars(select(User.unit_id)).one() == campaign["units"][0]


def test_users_create_rejects_an_unknown_role(runner, count_rows):
    result = runner.invoke(args=["users", "create", "gina", "--role", "admin", "--password", "password-1"])
    assert result.exit_code == 2 and "admin" in result.stderr
    assert count_rows(User) == 0


# --- the real ``flask`` entry point -----------------------------------------------------------


def test_flask_command_line_runs_the_same_commands(database_url, campaign):
    """``flask --app app …`` (FlaskGroup) runs the commands the runner tests; this is what organisers type."""
    env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="test-secret-key")
    env.pop("TEST_DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "codes", "issue",
                          str(campaign["evaluation"]), "--group", "党员", "--count", "3"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) == 3 and all(PRINTED.match(c) for c in out.stdout.splitlines())
    assert "3" in out.stderr and "Traceback" not in out.stderr
