"""Every CLI command that changes data leaves an audit entry by 'cli' saying what it did (issue 13),
never a plain code or token; and ``demo`` refuses to run in production."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select, text

from extensions import db
from models import AuditLog, Evaluation, EvaluationStatus

ROOT = Path(__file__).resolve().parents[2]


def _entries(app, action: str) -> list[AuditLog]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def _ok(result):
    assert result.exit_code == 0, result.output
    return result


def test_codes_issue_and_void_are_audited_without_the_codes(app, runner, campaign):
    printed = _ok(runner.invoke(args=["codes", "issue", str(campaign["evaluation"]), "--group", "党员",
                                      "--count", "3"])).stdout.split()
    [issued] = _entries(app, "codes_issue")
    assert issued.username == "cli" and issued.user_id is None
    assert issued.target == f"evaluation:{campaign['evaluation']}" and json.loads(issued.detail)["codes"] == 3
    everything = issued.target + issued.detail
    assert not any(code in everything or code.replace("-", "") in everything for code in printed)
    _ok(runner.invoke(args=["codes", "void", "1"]))
    [voided] = _entries(app, "codes_void")
    assert (voided.username, voided.target, json.loads(voided.detail)) == ("cli", "batch:1", {"unused_voided": 3})


def test_a_refused_command_leaves_no_entry(app, runner, campaign):
    assert runner.invoke(args=["codes", "issue", "999", "--group", "党员", "--count", "3"]).exit_code == 1
    assert runner.invoke(args=["codes", "void", "999"]).exit_code == 1
    assert _entries(app, "codes_issue") == [] and _entries(app, "codes_void") == []


def test_evaluations_create_and_close_are_audited(app, runner, campaign):
    made = _ok(runner.invoke(args=["evaluations", "create", "--unit", str(campaign["units"][1]),
                                   "--questionnaire", "meeting"])).stdout.strip()
    [created] = _entries(app, "evaluations_create")
    assert created.username == "cli" and created.target == f"unit:{campaign['units'][1]}"
    assert json.loads(created.detail)["questionnaire"] == "meeting"
    _ok(runner.invoke(args=["evaluations", "close", str(campaign["evaluation"])]))
    assert [e.username for e in _entries(app, "evaluation_close")] == ["cli"]
    assert made.isdigit()


def test_tokens_create_and_revoke_are_audited_without_the_token(app, runner):
    _ok(runner.invoke(args=["users", "create", "api", "--password", "long-enough-1"]))
    token = _ok(runner.invoke(args=["tokens", "create", "api"])).stdout.strip()
    _ok(runner.invoke(args=["tokens", "revoke", "api"]))
    [created] = _entries(app, "token_create")
    revoked = [e for e in _entries(app, "user_edit") if "tokens_revoke" in e.detail]
    assert created.username == "cli" and token not in created.detail + created.target
    assert len(revoked) == 1 and revoked[0].username == "cli"


def test_recount_fix_and_box_settle_are_audited(app, client, runner, campaign, issue, answers_for):
    evaluation = campaign["evaluation"]
    for code in issue(evaluation, "党员", 2):
        client.post("/v", data={**answers_for(evaluation), "code": code, "ballot": "1"})
    with app.app_context():
        db.session.get(Evaluation, evaluation).status = EvaluationStatus.CLOSED
        db.session.commit()
    _ok(runner.invoke(args=["box", "settle"]))
    [settled] = _entries(app, "box_settle")
    assert settled.username == "cli" and json.loads(settled.detail) == {"counted": {str(evaluation): 2}}
    with app.app_context():
        db.session.execute(text("DELETE FROM ballot_tally"))
        db.session.commit()
    _ok(runner.invoke(args=["recount", "--fix"]))
    [rebuilt] = [e for e in _entries(app, "tallies_rebuild") if e.target == "recount --fix"]
    assert rebuilt.username == "cli" and json.loads(rebuilt.detail)["cells_differed"] >= 1


def test_backup_is_audited(app, runner, tmp_path):
    target = tmp_path / "copy.sqlite"
    _ok(runner.invoke(args=["backup", str(target)]))
    [entry] = _entries(app, "backup")
    assert entry.username == "cli" and entry.target == str(target)


def test_users_password_resets_audits_and_ends_sessions(app, runner):
    _ok(runner.invoke(args=["users", "create", "org", "--password", "first-password"]))
    browser = app.test_client()
    assert browser.post("/login", data={"username": "org", "password": "first-password"}).status_code == 302
    assert browser.get("/admin/users").status_code == 200
    result = runner.invoke(args=["users", "password", "org"], input="second-password\nsecond-password\n")
    _ok(result)
    assert "second-password" not in result.output.replace("New password", "")  # typed without echo
    [entry] = _entries(app, "password_reset")
    assert (entry.username, entry.target) == ("cli", "账号 org")
    assert browser.get("/admin/users").status_code == 302  # the open session ended
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": "org", "password": "second-password"}).status_code == 302
    refused = runner.invoke(args=["users", "password", "nobody", "--password", "whatever-1"])
    assert refused.exit_code == 1 and "nobody" in refused.output and "Traceback" not in refused.output
    short = runner.invoke(args=["users", "password", "org", "--password", "short"])
    assert short.exit_code == 1 and "8" in short.output


def test_demo_refuses_in_production(database_url, tmp_path):
    env = dict(os.environ, DATABASE_URL=database_url, CEPING_ENV="production", SECRET_KEY="s" * 40,
               CEPING_CODE_KEY="c" * 40, CEPING_BALLOT_KEY="b" * 40)
    env.pop("TEST_DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "demo"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "production" in out.stderr and "Traceback" not in out.stderr
    assert "ceping-demo" not in out.stderr
