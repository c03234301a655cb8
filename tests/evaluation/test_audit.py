"""The audit log: each action appended with who and when, append-only in the database, readable
and filterable by organisers, never a word about a rater; sign-in attempts limited."""
from __future__ import annotations

import datetime as dt

import pytest
from results_data import N_ANSWERS, PASSWORD, login, make_token, seed_results
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from extensions import db
from models import Answer, AuditLog, Ballot, BallotCode


def log(app) -> list[AuditLog]:
    with app.app_context():
        entries = list(db.session.scalars(select(AuditLog).order_by(AuditLog.id)))
        for entry in entries:
            db.session.expunge(entry)
        return entries


def table(html: str) -> str:
    """The rows of the audit table (not the filter form, whose options name every action)."""
    return html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""


def actions(app) -> list[tuple[str, str]]:
    return [(e.action, e.username) for e in log(app)]


@pytest.fixture()
def organiser(app, campaign):
    from evaluation.services import create_user

    with app.app_context():
        create_user("org", PASSWORD, "organiser")
    return campaign


def test_sign_in_and_sign_out_are_recorded_failures_counted_not_logged(app, client, organiser):
    """A failed sign-in adds to its address's count for the hour; it appends no audit row of its own."""
    from models import SignInFailures

    for _ in range(3):
        client.post("/login", data={"username": "org", "password": "wrong-password"})
    client.post("/login", data={"username": "org", "password": PASSWORD})
    client.post("/logout")
    assert actions(app) == [("sign_in", "org"), ("sign_out", "org")]
    assert all(PASSWORD not in e.detail + e.target for e in log(app))
    with app.app_context():
        rows = db.session.scalars(select(SignInFailures)).all()
        assert [(r.address, r.failures, len(r.hour)) for r in rows] == [("127.0.0.1", 3, 13)]


def test_each_organiser_action_is_recorded_with_who(app, client, runner, organiser):
    login(client, "org")
    campaign_id, unit = organiser["campaign"], organiser["units"][0]
    client.post("/admin/units/campaigns", data={"name": "审计活动"})
    client.post(f"/admin/groups?campaign={campaign_id}", data={"name": "两代表一委员", "weight": "2"})
    client.post(f"/admin/units/{unit}/edit", data={"name": "改名单位", "kind": "unit", "members": "21"})
    client.post("/admin/users", data={"username": "li", "role": "liaison", "unit": unit,
                                      "password": "long-enough-1"})
    client.post("/admin/password", data={"old": PASSWORD, "new": "new-password-1", "confirm": "new-password-1"})
    make_token(app, "li")
    result = runner.invoke(args=["users", "create", "cli-viewer", "--role", "viewer", "--password", "long-enough-2"])
    assert result.exit_code == 0, result.output
    recorded = actions(app)
    for expected in [("campaign_create", "org"), ("groups_edit", "org"), ("unit_edit", "org"),
                     ("user_create", "org"), ("password_change", "org"), ("token_create", "cli"),
                     ("user_create", "cli")]:
        assert expected in recorded, expected
    cli_entry = [e for e in log(app) if e.action == "user_create"][-1]
    assert cli_entry.user_id is None and cli_entry.target == "账号 cli-viewer"
    assert all("long-enough" not in e.detail for e in log(app))
    # a refused action leaves no entry behind
    client.post("/admin/users", data={"username": "li", "role": "viewer", "unit": 0, "password": "long-enough-1"})
    assert [a for a, _ in actions(app)].count("user_create") == 2


def test_cli_liaison_and_viewer_accounts_work_and_are_audited(app, runner, organiser):
    unit = organiser["units"][1]
    ok = runner.invoke(args=["users", "create", "li2", "--role", "liaison", "--unit", str(unit),
                             "--password", "long-enough-3"])
    assert ok.exit_code == 0, ok.output
    refused = runner.invoke(args=["users", "create", "li3", "--role", "liaison", "--password", "long-enough-3"])
    assert refused.exit_code != 0 and "--unit" in refused.output
    entries = [e for e in log(app) if e.action == "user_create"]
    assert [(e.username, e.target) for e in entries] == [("cli", "账号 li2")]
    assert f'"unit_id": {unit}' in entries[0].detail


def test_audit_log_refuses_update_and_delete_in_the_database(app, organiser):
    from evaluation.accounts.audit import record

    with app.app_context():
        record("export", "something")
        db.session.commit()
        for statement in (update(AuditLog).values(action="forged"), text("DELETE FROM audit_log")):
            with pytest.raises(DBAPIError):
                db.session.execute(statement)
                db.session.commit()
            db.session.rollback()
        entry = db.session.scalar(select(AuditLog))
        entry.target = "changed"
        with pytest.raises(DBAPIError):
            db.session.commit()
        db.session.rollback()
        assert db.session.scalar(select(AuditLog.target)) == "something"


def test_audit_never_contains_codes_ballots_or_answers(app, client, campaign):
    ids = seed_results(app, campaign)
    login(client, ids["organiser"])
    client.post(f"/admin/groups?campaign={ids['campaign']}", data={"name": "服务对象2", "weight": ""})
    client.get(f"/admin/campaigns/{ids['campaign']}/results.csv")
    client.post(f"/admin/evaluations/{ids['a']}/makeup", data={"confirm": "1"})
    client.post("/logout")
    with app.app_context():
        secrets = set(ids["codes"]) | {c.replace("-", "") for c in ids["codes"]}
        secrets |= set(db.session.scalars(select(BallotCode.code_hash)))
        secrets |= set(db.session.scalars(select(Ballot.id)))
        texts = set(db.session.scalars(select(Answer.text).where(Answer.text.is_not(None))))
        assert db.session.scalar(select(db.func.count()).select_from(Answer)) == N_ANSWERS
    everything = " ".join(f"{e.action} {e.target} {e.detail}" for e in log(app))
    assert log(app)  # there is something to look at
    for secret in secrets | texts:
        assert secret not in everything


def test_organisers_read_and_filter_the_log_newest_first(app, client, organiser):
    from evaluation.accounts.audit import record

    with app.app_context():
        for n in range(130):
            record("export", f"文件 {n}", user=None)
        db.session.commit()
    login(client, "org")
    html = client.get("/admin/audit").get_data(as_text=True)
    rows = table(html)
    assert rows.index("<td>登录</td>") < rows.index("文件 129") < rows.index("文件 100")
    assert "文件 79<" not in rows and 'rel="next"' in html  # 50 a page
    assert "文件 0<" in table(client.get("/admin/audit?page=3").get_data(as_text=True))
    assert "共 131 条" in html
    only_sign_in = table(client.get("/admin/audit?action=sign_in").get_data(as_text=True))
    assert "<td>登录</td>" in only_sign_in and "文件" not in only_sign_in
    by_user = table(client.get("/admin/audit?user=cli").get_data(as_text=True))
    assert "文件 129" in by_user and "<td>登录</td>" not in by_user
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()  # days are read in Asia/Shanghai
    future = client.get(f"/admin/audit?since={today + dt.timedelta(days=1)}").get_data(as_text=True)
    assert "没有符合条件的记录" in future
    yesterday = client.get(f"/admin/audit?until={today - dt.timedelta(days=1)}").get_data(as_text=True)
    assert "没有符合条件的记录" in yesterday
    around = client.get(f"/admin/audit?since={today}&until={today}")
    assert "文件 129" in table(around.get_data(as_text=True))
    assert client.get("/admin/audit?since=not-a-date&page=x").status_code == 200


def _limited_app(database_url, limit: str):
    from app import create_app

    application = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": True,
                              "LOGIN_LIMIT": limit})
    return application


def test_sign_in_attempts_are_limited_per_address(app, database_url, organiser):
    limited = _limited_app(database_url, "3 per 5 minutes")
    client = limited.test_client()
    for name in ("org", "nobody", "someone"):
        assert client.post("/login", data={"username": name, "password": "wrong-password"}).status_code == 400
    response = client.post("/login", data={"username": "org", "password": PASSWORD})
    assert response.status_code == 429
    assert "登录失败次数过多,请在 5 分钟后再试" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) <= 300
    assert client.get("/login").status_code == 200  # reading the page is never limited


def test_successful_sign_ins_do_not_count(app, database_url, organiser):
    limited = _limited_app(database_url, "2 per 5 minutes")
    for _ in range(4):
        client = limited.test_client()
        assert client.post("/login", data={"username": "org", "password": PASSWORD}).status_code == 302


def test_control_characters_never_reach_the_database(app, client, organiser):
    """PostgreSQL refuses NUL in text: the sign-in form refuses such a name, and the log replaces them."""
    from evaluation.accounts.audit import record

    response = client.post("/login", data={"username": "a\x00b\x1b", "password": "x"})
    assert response.status_code == 400 and "控制字符" in response.get_data(as_text=True)
    with app.app_context():
        record("sign_in_failed", "账号 a\x00b\x1b")
        db.session.commit()
    [entry] = log(app)
    assert entry.target == "账号 a\ufffdb\ufffd"
