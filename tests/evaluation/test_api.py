"""The results API: bearer tokens, JSON errors, and figures computed by hand (results_data)."""
from __future__ import annotations

import json

import pytest

from tests.evaluation.results_data import (
    A_ITEM3_CI, A_ITEMS, COMMITTEE_NAME, SCRIPT_NAME, make_token, seed_results,
)


@pytest.fixture()
def seeded(app, campaign):
    """The hand-made ballots plus an organiser token."""
    ids = seed_results(app, campaign)
    ids["token"] = make_token(app, ids["organiser"])
    return ids


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body["error"], str) and body["error"] and body["status"] == status
    return body


# --- authorisation --------------------------------------------------------------------------------


def test_missing_or_invalid_token_is_401_json(client, seeded):
    url = f"/api/v1/evaluations/{seeded['a']}/results"
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer cp_not-a-token"},
                    {"Authorization": f"Basic {seeded['token']}"},
                    {"Authorization": f"Bearer {seeded['token']}x"}):
        response = client.get(url, headers=headers)
        body = assert_json_error(response, 401)
        assert "Bearer" in body["error"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_valid_token_is_accepted_and_scheme_is_case_insensitive(client, seeded):
    url = f"/api/v1/evaluations/{seeded['a']}/results"
    assert client.get(url, headers=bearer(seeded["token"])).status_code == 200
    assert client.get(url, headers={"Authorization": f"bearer {seeded['token']}"}).status_code == 200


def test_revoked_token_and_disabled_user_are_refused(app, client, seeded):
    from evaluation.accounts.tokens import revoke_tokens
    from extensions import db
    from models import User

    url = f"/api/v1/campaigns/{seeded['campaign']}/results"
    second = make_token(app, seeded["organiser"])
    with app.app_context():
        assert revoke_tokens(seeded["organiser"]) == 2
    assert_json_error(client.get(url, headers=bearer(seeded["token"])), 401)
    assert_json_error(client.get(url, headers=bearer(second)), 401)

    third = make_token(app, seeded["organiser"])
    assert client.get(url, headers=bearer(third)).status_code == 200
    with app.app_context():
        db.session.scalar(db.select(User).where(User.username == seeded["organiser"])).active = False
        db.session.commit()
    assert_json_error(client.get(url, headers=bearer(third)), 401)


def test_viewer_token_reads_everything_the_organiser_reads(app, client, seeded):
    # Issue 4: tokens carry their account's role; a viewer reads every result (it was 403 before).
    viewer = make_token(app, "viewer1", "viewer")
    for url in (f"/api/v1/evaluations/{seeded['a']}/results", f"/api/v1/evaluations/{seeded['b']}/results",
                f"/api/v1/campaigns/{seeded['campaign']}/results"):
        as_viewer = client.get(url, headers=bearer(viewer))
        assert as_viewer.status_code == 200
        assert as_viewer.get_data() == client.get(url, headers=bearer(seeded["token"])).get_data()
    # the API only reads: there is nothing to write, for any role
    assert_json_error(client.post(f"/api/v1/evaluations/{seeded['a']}/results", headers=bearer(viewer)), 405)


def test_liaison_token_reads_only_its_units_and_no_small_figures(app, client, seeded):
    # Issue 4: a liaison of 第二单位 (5 ballots, not judged) sees that unit only, without per-item figures.
    liaison = make_token(app, "liaison-b", "liaison", seeded["unit_b"])
    response = client.get(f"/api/v1/evaluations/{seeded['a']}/results", headers=bearer(liaison))
    body = assert_json_error(response, 404)  # another unit's evaluation does not exist for it
    assert "第一单位" not in response.get_data(as_text=True) and str(seeded["a"]) in body["error"]
    [unit] = client.get(f"/api/v1/evaluations/{seeded['b']}/results", headers=bearer(liaison)).get_json()["units"]
    assert (unit["unit"], unit["judged"], unit["items"], unit["overall_rate"]) == (SCRIPT_NAME, False, [], None)
    doc = client.get(f"/api/v1/campaigns/{seeded['campaign']}/results", headers=bearer(liaison)).get_json()
    assert [u["unit_id"] for u in doc["units"]] == [seeded["unit_b"]] and doc["units"][0]["items"] == []
    assert [c["n_units"] for c in doc["committees"]] == [1]


def test_liaison_token_of_a_judged_unit_gets_its_figures(app, client, seeded):
    liaison = make_token(app, "liaison-a", "liaison", seeded["unit_a"])
    [unit] = client.get(f"/api/v1/evaluations/{seeded['a']}/results", headers=bearer(liaison)).get_json()["units"]
    assert unit["judged"] and len(unit["items"]) == 6
    assert_json_error(client.get(f"/api/v1/evaluations/{seeded['b']}/results", headers=bearer(liaison)), 404)


def test_tokens_are_stored_only_as_sha256(app, seeded):
    import hashlib

    from extensions import db
    from models import ApiToken

    with app.app_context():
        stored = db.session.scalars(db.select(ApiToken.token_hash)).all()
    assert stored == [hashlib.sha256(seeded["token"].encode()).hexdigest()]
    assert seeded["token"].startswith("cp_") and len(seeded["token"]) == 3 + 43


# --- JSON errors under /api/ -----------------------------------------------------------------------


def test_unknown_ids_are_404_json(client, seeded):
    headers = bearer(seeded["token"])
    body = assert_json_error(client.get("/api/v1/evaluations/9999/results", headers=headers), 404)
    assert "9999" in body["error"]
    assert_json_error(client.get("/api/v1/campaigns/9999/results", headers=headers), 404)
    body = assert_json_error(client.get(f"/api/v1/campaigns/{seeded['campaign']}/results"
                                        "?questionnaire=meeting", headers=headers), 404)
    assert "meeting" in body["error"]


def test_routing_errors_under_api_are_json_not_html(client, seeded):
    headers = bearer(seeded["token"])
    assert_json_error(client.get("/api/v1/nothing-here", headers=headers), 404)
    assert_json_error(client.get("/api/v1/evaluations/abc/results", headers=headers), 404)
    assert_json_error(client.post(f"/api/v1/evaluations/{seeded['a']}/results", headers=headers), 405)
    # outside /api/ errors stay HTML pages
    assert client.get("/admin/nothing-here").mimetype == "text/html"


def test_unexpected_error_is_500_json(app, client, seeded, monkeypatch):
    import evaluation.results.api

    def boom(*args, **kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(evaluation.results.api, "evaluation_document", boom)
    response = client.get(f"/api/v1/evaluations/{seeded['a']}/results", headers=bearer(seeded["token"]))
    assert_json_error(response, 500)
    assert "secret detail" not in response.get_data(as_text=True)


# --- figures ------------------------------------------------------------------------------------


def test_evaluation_results_match_hand_computed_figures(client, seeded):
    response = client.get(f"/api/v1/evaluations/{seeded['a']}/results", headers=bearer(seeded["token"]))
    assert response.status_code == 200 and response.mimetype == "application/json"
    doc = response.get_json()
    assert (doc["evaluation_id"], doc["unit_id"], doc["questionnaire"]) == (seeded["a"], seeded["unit_a"],
                                                                           "satisfaction")
    assert (doc["threshold"], doc["min_ballots"]) == (0.6, 8)
    [unit] = doc["units"]
    assert (unit["unit"], unit["n_ballots"], unit["judged"], unit["needs_makeup"]) == ("第一单位", 10, True, True)
    assert unit["overall_rate"] == pytest.approx(0.58)
    assert unit["reason"].startswith("5 项指标中有 3 项低于 60%")
    assert [i["position"] for i in unit["items"]] == [1, 2, 3, 4, 5, 6]
    for item in unit["items"]:
        n_valid, n_positive, rate = A_ITEMS[item["position"]]
        assert (item["n_valid"], item["n_positive"]) == (n_valid, n_positive)
        assert item["rate"] == (None if rate is None else pytest.approx(rate))
    assert [i["unsatisfactory"] for i in unit["items"]] == [False, True, False, True, False, True]
    item3 = unit["items"][2]
    assert (item3["ci_low"], item3["ci_high"]) == pytest.approx(A_ITEM3_CI, abs=1e-6)
    assert unit["items"][4]["rated"] is False and unit["items"][4]["n_unknown"] == 10
    # 党员 6 and 群众代表 4 ballots, both below min_ballots 8: no per-group figure for anyone
    # (tests/evaluation/test_disclosure.py shows the breakdown of a unit whose groups are large enough).
    assert all(item["groups"] == [] for item in unit["items"])


def test_campaign_results_units_and_committee_rollup(client, seeded):
    response = client.get(f"/api/v1/campaigns/{seeded['campaign']}/results", headers=bearer(seeded["token"]))
    doc = response.get_json()
    assert (doc["campaign"], doc["questionnaire"], doc["questionnaires"]) == ("测试活动", "satisfaction",
                                                                             ["satisfaction"])
    assert [u["unit_id"] for u in doc["units"]] == [seeded["unit_a"], seeded["unit_b"]]
    a, b = doc["units"]
    assert (a["needs_makeup"], a["committee"]) == (True, COMMITTEE_NAME)
    assert (b["unit"], b["n_ballots"], b["judged"], b["needs_makeup"]) == (SCRIPT_NAME, 5, False, False)
    assert (b["overall_rate"], b["n_unsatisfactory"], b["items"]) == (None, None, [])  # not judged: withheld
    assert b["reason"] == "有效票 5 张,少于最低 8 张,不作评判"
    [committee] = doc["committees"]
    assert committee["committee_id"] == seeded["committee"]
    assert (committee["n_units"], committee["n_judged"], committee["n_makeup"], committee["n_ballots"]) == (2, 1, 1, 15)
    assert committee["mean_overall_rate"] == pytest.approx(0.58)
    explicit = client.get(f"/api/v1/campaigns/{seeded['campaign']}/results?questionnaire=satisfaction",
                          headers=bearer(seeded["token"]))
    assert explicit.data == response.data


def test_campaign_without_ballots_or_evaluations(app, client, campaign):
    from models import Campaign
    from extensions import db

    token = make_token(app, "org2")
    doc = client.get(f"/api/v1/campaigns/{campaign['campaign']}/results", headers=bearer(token)).get_json()
    [unit] = doc["units"]
    assert (unit["n_ballots"], unit["judged"], unit["items"], unit["overall_rate"]) == (0, False, [], None)
    with app.app_context():
        empty = Campaign(name="空活动")
        db.session.add(empty)
        db.session.commit()
        empty_id = empty.id
    doc = client.get(f"/api/v1/campaigns/{empty_id}/results", headers=bearer(token)).get_json()
    assert (doc["questionnaire"], doc["units"], doc["committees"]) == (None, [], [])


def test_script_unit_name_is_inert_in_json(client, seeded):
    response = client.get(f"/api/v1/campaigns/{seeded['campaign']}/results", headers=bearer(seeded["token"]))
    raw = response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in raw and "<" not in raw and ">" not in raw
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in raw
    assert json.loads(raw)["units"][1]["unit"] == SCRIPT_NAME  # same text once decoded
    assert "第一单位" in raw  # Chinese is sent as UTF-8, not \\u escapes
