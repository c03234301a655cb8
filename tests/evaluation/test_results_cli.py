"""``flask tokens`` and ``flask results``: the CLI gives the API's JSON and the download's CSV, byte for byte."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re

import pytest

from tests.evaluation.results_data import A_ITEMS, SCRIPT_NAME, login, make_token, seed_results


@pytest.fixture()
def seeded(app, campaign):
    ids = seed_results(app, campaign)
    ids["token"] = make_token(app, ids["organiser"])
    return ids


def api(client, token: str, path: str):
    return client.get(f"/api/v1/{path}", headers={"Authorization": f"Bearer {token}"})


def test_tokens_create_prints_only_the_token_which_then_works(app, runner, client, seeded):
    from extensions import db
    from models import ApiToken

    result = runner.invoke(args=["tokens", "create", seeded["organiser"]])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert result.stdout == token + "\n"
    assert re.fullmatch(r"cp_[A-Za-z0-9_-]{43}", token)
    with app.app_context():
        hashes = set(db.session.scalars(db.select(ApiToken.token_hash)))
    assert hashlib.sha256(token.encode()).hexdigest() in hashes and token not in hashes
    assert api(client, token, f"evaluations/{seeded['a']}/results").status_code == 200


def test_tokens_create_unknown_user_fails(runner, seeded):
    result = runner.invoke(args=["tokens", "create", "nobody"])
    assert result.exit_code != 0 and result.stdout == ""
    assert "nobody" in result.output


def test_tokens_revoke(runner, client, seeded):
    result = runner.invoke(args=["tokens", "revoke", seeded["organiser"]])
    assert result.exit_code == 0 and "1" in result.stderr
    assert api(client, seeded["token"], f"evaluations/{seeded['a']}/results").status_code == 401


@pytest.mark.parametrize("spelling", ["e{a}", "{a}", "evaluation:{a}", "E{a}"])
def test_results_json_of_an_evaluation_is_the_api_response(runner, client, seeded, spelling):
    result = runner.invoke(args=["results", spelling.format(a=seeded["a"]), "--format", "json"])
    assert result.exit_code == 0, result.output
    response = api(client, seeded["token"], f"evaluations/{seeded['a']}/results")
    assert result.stdout_bytes == response.data
    assert json.loads(result.stdout_bytes)["units"][0]["n_ballots"] == 10


@pytest.mark.parametrize("spelling", ["c{c}", "campaign:{c}"])
def test_results_json_of_a_campaign_is_the_api_response(runner, client, seeded, spelling):
    target = spelling.format(c=seeded["campaign"])
    result = runner.invoke(args=["results", target])  # json is the default
    response = api(client, seeded["token"], f"campaigns/{seeded['campaign']}/results")
    assert result.exit_code == 0 and result.stdout_bytes == response.data
    keyed = runner.invoke(args=["results", target, "--questionnaire", "satisfaction"])
    assert keyed.stdout_bytes == api(client, seeded["token"],
                                     f"campaigns/{seeded['campaign']}/results?questionnaire=satisfaction").data
    assert SCRIPT_NAME not in result.stdout  # escaped as \u003c…, like the API


def test_results_csv_is_the_download(runner, client, seeded):
    login(client, seeded["organiser"])
    for target, url in ((f"c{seeded['campaign']}", f"/admin/campaigns/{seeded['campaign']}/results.csv"),
                        (f"e{seeded['a']}", f"/admin/evaluations/{seeded['a']}/results.csv")):
        result = runner.invoke(args=["results", target, "--format", "csv"])
        assert result.exit_code == 0, result.output
        assert result.stdout_bytes == client.get(url).data
        assert result.stdout_bytes.startswith(b"\xef\xbb\xbf")


def test_api_cli_and_csv_agree_on_every_figure(runner, client, seeded):
    doc = json.loads(api(client, seeded["token"], f"campaigns/{seeded['campaign']}/results").data)
    cli_doc = json.loads(runner.invoke(args=["results", f"c{seeded['campaign']}"]).stdout_bytes)
    assert cli_doc == doc
    data = runner.invoke(args=["results", f"c{seeded['campaign']}", "--format", "csv"]).stdout_bytes
    every = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    rows = {(int(r["unit_id"]), int(r["item_id"])): r for r in every if r["item_id"]}
    assert len(rows) == 6 and len(every) == 7  # unit B is not judged: one row, no item figures
    for unit in doc["units"]:
        for item in unit["items"]:
            row = rows[(unit["unit_id"], item["item_id"])]
            for field in ("n_valid", "n_positive", "n_negative", "n_unknown"):
                assert int(row[field]) == item[field]
            for field in ("rate", "ci_low", "ci_high"):
                assert (float(row[field]) if row[field] else None) == (
                    None if item[field] is None else pytest.approx(item[field], rel=1e-5))
            assert row["unsatisfactory"] == str(item["unsatisfactory"])
            assert float(row["overall_rate"]) == pytest.approx(unit["overall_rate"], rel=1e-5)
    # and the hand-computed figures of unit A, once more through the CSV
    a_rows = sorted((r for r in rows.values() if r["unit_id"] == str(seeded["unit_a"])),
                    key=lambda r: int(r["item_position"]))
    assert [(int(r["n_valid"]), int(r["n_positive"])) for r in a_rows] == [v[:2] for v in A_ITEMS.values()]


@pytest.mark.parametrize("args, message", [
    (["results", "x9"], "Unknown target"),
    (["results", "e9999"], "No evaluation with id 9999"),
    (["results", "c9999"], "No campaign with id 9999"),
    # past the INTEGER column: a miss, not the database's overflow error (ids.get_by_id)
    (["results", "e99999999999"], "No evaluation with id 99999999999"),
    (["results", "c99999999999"], "No campaign with id 99999999999"),
    (["results", "c{c}", "--questionnaire", "meeting"], "meeting"),
    (["results", "e{a}", "--questionnaire", "satisfaction"], "campaigns only"),
    (["results", "e{a}", "--format", "xml"], "xml"),
])
def test_results_errors(runner, seeded, args, message):
    args = [a.format(c=seeded["campaign"], a=seeded["a"]) for a in args]
    result = runner.invoke(args=args)
    assert result.exit_code != 0 and result.stdout == ""
    assert message in result.output


def test_parse_target():
    from evaluation.results.cli import parse_target

    assert parse_target("e5") == parse_target("5") == parse_target("evaluation:5") == ("evaluation", 5)
    assert parse_target("c1") == parse_target("campaign:1") == parse_target(" C1 ") == ("campaign", 1)
    for bad in ("", "c", "e-1", "campaign:x", "u3", "5e"):
        with pytest.raises(ValueError):
            parse_target(bad)
