"""Abuse limits on the rater side: wrong codes per address and site-wide, request rates."""
from __future__ import annotations

import pytest

from app import create_app
from extensions import db
from surveys.codes import generate_code


@pytest.fixture()
def limited(database_url):
    """An app with the limits on and small budgets, in-memory counters."""
    application = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "CODE_FAILURES_PER_ADDRESS": "3 per hour", "CODE_FAILURES_GLOBAL": "5 per hour",
        "CODE_REQUESTS_PER_ADDRESS": "50 per minute", "CODE_FAILURES_WHEN_BUSY": "1 per hour",
    })
    with application.app_context():
        from surveys.catalog import load_catalog

        load_catalog()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _get(client, code, address):
    return client.post("/v", data={"code": code}, environ_base={"REMOTE_ADDR": address},
                       follow_redirects=True)


def test_wrong_codes_block_that_address_and_the_spent_budget_slows_every_guesser(limited, campaign, issue):
    good = issue(campaign["evaluation"], "党员", 1)[0]
    client = limited.test_client()
    for _ in range(3):
        assert _get(client, generate_code(), "10.0.0.1").status_code == 404
    blocked = _get(client, good, "10.0.0.1")
    assert blocked.status_code == 429
    assert "操作过于频繁" in blocked.get_data(as_text=True)
    # another address still gets in …
    assert _get(client, good, "10.0.0.2").status_code == 200
    # … and still does once the site-wide budget of 5 wrong codes is spent (issue 13: no off switch) …
    assert _get(client, generate_code(), "10.0.0.3").status_code == 404
    assert _get(client, generate_code(), "10.0.0.4").status_code == 404
    assert _get(client, good, "10.0.0.5").status_code == 200
    # … while an address that failed is now blocked after one wrong code instead of three
    assert _get(client, generate_code(), "10.0.0.6").status_code == 404
    assert _get(client, generate_code(), "10.0.0.6").status_code == 429
    assert _get(client, good, "10.0.0.6").status_code == 429
    # nothing was stored and the good code is still unused
    with limited.app_context():
        from models import Ballot

        assert db.session.scalar(db.select(db.func.count()).select_from(Ballot)) == 0


def test_valid_codes_do_not_spend_the_wrong_code_budget(limited, campaign, issue):
    codes = issue(campaign["evaluation"], "党员", 6)
    client = limited.test_client()
    for code in codes:
        assert _get(client, code, "10.0.0.9").status_code == 200


def test_request_rate_per_address_counts_failed_requests_only(database_url, campaign, issue):
    application = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": True,
                              "RATELIMIT_STORAGE_URI": "memory://", "CODE_REQUESTS_PER_ADDRESS": "4 per minute",
                              "CODE_FAILURES_PER_ADDRESS": "1000 per hour"})
    code = issue(campaign["evaluation"], "党员", 1)[0]
    client = application.test_client()
    assert [_get(client, code, "10.0.1.1").status_code for _ in range(6)] == [200] * 6  # successes are free
    statuses = [_get(client, "not-a-code", "10.0.1.1").status_code for _ in range(6)]
    assert statuses[:4] == [400] * 4 and statuses[4:] == [429, 429]
    page = _get(client, code, "10.0.1.1").get_data(as_text=True)
    assert "请稍后再试" in page and "Traceback" not in page
    with application.app_context():
        db.engine.dispose()


def test_a_meeting_room_of_150_raters_behind_one_address_all_vote(database_url, campaign, issue, answers_for):
    """The default limits (120 requests a minute per address) and one NAT address: nobody is turned away."""
    application = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": True,
                              "RATELIMIT_STORAGE_URI": "memory://"})
    evaluation = campaign["evaluation"]
    codes = issue(evaluation, "党员", 150)
    answers = answers_for(evaluation)
    client = application.test_client()
    statuses = []
    for code in codes:
        statuses.append(_get(client, code, "203.0.113.9").status_code)
        statuses.append(client.post("/v", data={**answers, "code": code, "ballot": "1"},
                                    environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code)
    assert statuses == [200, 303] * 150
    with application.app_context():
        from models import BallotCode, CodeStatus

        used = db.select(db.func.count()).select_from(BallotCode).where(BallotCode.status == CodeStatus.USED)
        assert db.session.scalar(used) == 150
        db.engine.dispose()
