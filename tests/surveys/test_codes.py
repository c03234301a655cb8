"""Ballot codes: entropy, alphabet, printed format, normalisation, keyed hashing, voiding.

The contract (issue 2, point 4): ≥ 40 bits, no look-alikes, printed in groups,
typed in any case with spaces and hyphens ignored, stored only as an HMAC with
the app's key, and a batch can be voided.
"""
from __future__ import annotations

import hashlib
import hmac
import math
from collections import Counter
import re

import pytest
from sqlalchemy import inspect, select, text

from config import TestConfig
from extensions import db
from models import BallotCode, CodeBatch, CodeStatus
from surveys.codes import ALPHABET, ENTROPY_BITS, LENGTH, format_code, generate_code, hash_code, normalise_code

PRINTED = re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$")


# --- generation -------------------------------------------------------------------------------


def test_generated_codes_carry_at_least_40_bits_measured():
    """Measure what generate_code() produces: every position uniform over the whole alphabet.

    The entropy of a code is the sum over its positions (independent draws), each
    estimated from 24,000 generated codes; a chi-square test per position catches a
    skewed draw (e.g. ``random`` modulo bias, a shorter alphabet, a fixed symbol).
    """
    n = 24000
    codes = [generate_code() for _ in range(n)]
    assert {len(c) for c in codes} == {LENGTH}
    per_symbol = math.log2(len(ALPHABET))
    measured = 0.0
    for position in range(LENGTH):
        counts = Counter(c[position] for c in codes)
        assert set(counts) == set(ALPHABET), position
        measured += -sum(k / n * math.log2(k / n) for k in counts.values())
        expected = n / len(ALPHABET)
        chi2 = sum((counts[a] - expected) ** 2 / expected for a in ALPHABET)
        # 30 degrees of freedom: P(chi2 > 70) < 1e-4 for a uniform draw
        assert chi2 < 70, (position, chi2)
    # The estimate sits a hair below the true value (finite sample); 0.01 bit per symbol allows for it.
    assert measured >= LENGTH * (per_symbol - 0.01) and measured >= 40, measured
    assert ENTROPY_BITS == pytest.approx(measured, abs=0.2)  # what the docs quote is what is generated


@pytest.mark.parametrize("lookalike", ["0", "O", "1", "I", "L"])
def test_alphabet_has_no_lookalikes(lookalike):
    assert lookalike not in ALPHABET
    assert lookalike.lower() not in ALPHABET


def test_alphabet_has_no_repeated_symbols():
    assert len(set(ALPHABET)) == len(ALPHABET)


def test_generated_codes_use_only_the_alphabet_and_are_unique():
    codes = [generate_code() for _ in range(3000)]
    assert all(len(c) == LENGTH and set(c) <= set(ALPHABET) for c in codes)
    assert len(set(codes)) == len(codes)
    # A CSPRNG over the whole alphabet: 36,000 symbols reach every one of the 31.
    assert set("".join(codes)) == set(ALPHABET)


def test_format_groups_of_four():
    assert format_code("K7QXM3PD9TWR") == "K7QX-M3PD-9TWR"
    assert PRINTED.match(format_code(generate_code()))


def test_cli_prints_codes_in_groups(app, runner, campaign):
    result = runner.invoke(args=["codes", "issue", str(campaign["evaluation"]), "--group", "党员", "--count", "20"])
    assert result.exit_code == 0, result.output
    printed = result.stdout.splitlines()
    assert len(printed) == 20
    for code in printed:
        assert PRINTED.match(code), code
        assert set(code.replace("-", "")) <= set(ALPHABET)


# --- normalisation ----------------------------------------------------------------------------


@pytest.mark.parametrize("typed", [
    "K7QX-M3PD-9TWR", "k7qx-m3pd-9twr", "K7QXM3PD9TWR", "k7qx m3pd 9twr", " K7QX - M3PD - 9TWR ",
    "k7Qx-m3Pd9tWr", "K7QX\u3000M3PD\u30009TWR", "--K7QXM3PD9TWR--",
])
def test_normalise_ignores_case_spaces_and_hyphens(typed):
    assert normalise_code(typed) == "K7QXM3PD9TWR"


@pytest.mark.parametrize("typed", [
    "K7QX-M3PD-9TW0",   # zero
    "K7QX-M3PD-9TWO",   # letter O
    "K7QX-M3PD-9TW1",   # one
    "K7QX-M3PD-9TWI",   # letter I
    "K7QX-M3PD-9TWL",   # letter L
    "k7qx-m3pd-9twl",   # lower-case l
    "K7QX-M3PD-9TW",    # too short
    "K7QX-M3PD-9TWRR",  # too long
    "K7QX_M3PD_9TWR",   # other separators are not ignored
    "K7QX-M3PD-9TW!",
    "测评码测评码测评码测评码",
    "",
    None,
    "K" * 65,
])
def test_normalise_rejects_lookalikes_and_non_codes(typed):
    assert normalise_code(typed) is None


def test_typed_code_is_found_in_any_case_and_spacing(client, campaign, issue):
    code = issue(campaign["evaluation"])[0]
    messy = " ".join(code.lower()[i:i + 3] for i in range(0, LENGTH, 3))
    response = client.post("/v", data={"code": messy}, follow_redirects=True)
    assert response.status_code == 200 and "满意度测评" in response.get_data(as_text=True)
    for variant in (code.lower(), format_code(code), format_code(code).lower()):
        page = client.post("/v", data={"code": variant}, follow_redirects=True)
        assert page.status_code == 200, variant
        assert "满意度测评" in page.get_data(as_text=True)


def test_lookalike_for_a_real_code_is_not_accepted(client, campaign, issue):
    """A look-alike is never silently mapped: the rater sees the 'not a code' page."""
    code = issue(campaign["evaluation"])[0]
    forged = code[:-1] + "O"
    page = client.post("/v", data={"code": forged}, follow_redirects=True)
    assert page.status_code == 400  # the box again, with the message next to it
    assert "测评码格式不正确" in page.get_data(as_text=True)


# --- keyed hash storage -----------------------------------------------------------------------


def _dump_database() -> str:
    """Every row of every table of the live database, as one text blob."""
    engine = db.engine
    parts = []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                parts.append(table + ":" + "|".join(str(v) for v in row))
    return "\n".join(parts)


def test_only_the_hmac_is_stored(app, campaign, issue, answers_for, client, count_box):
    plain = issue(campaign["evaluation"], "党员", 5)
    key = app.config["CODE_KEY"].encode()
    client.post("/v", data={**(answers_for(campaign["evaluation"])), "code": plain[0], "ballot": "1"})
    count_box(campaign["evaluation"])
    with app.app_context():
        stored = set(db.session.scalars(select(BallotCode.code_hash)))
        expected = {hmac.new(key, c.encode(), hashlib.sha256).hexdigest() for c in plain}
        assert stored == expected
        dump = _dump_database()
    assert "ballot_code:" in dump and "ballot:" in dump  # the dump really covers the tables
    for code in plain:
        for form in (code, format_code(code), code.lower(), format_code(code).lower()):
            assert form not in dump, "a plain ballot code is stored in the database"


def test_hash_is_keyed(campaign, issue, database_url):
    """Without the key a stored hash cannot be recomputed: another key does not open the code."""
    from app import create_app

    code = issue(campaign["evaluation"])[0]
    assert hash_code(code, "key-a") != hash_code(code, "key-b")
    other = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "another-secret"})
    response = other.test_client().post("/v", data={"code": code}, follow_redirects=True)
    assert response.status_code == 404
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_code_key_survives_rotating_the_session_secret(campaign, issue, database_url):
    """CODE_KEY set: codes printed before a SECRET_KEY rotation still open."""
    from app import create_app

    code = issue(campaign["evaluation"])[0]
    rotated = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "rotated",
                          "CODE_KEY": TestConfig.SECRET_KEY})
    assert rotated.test_client().post("/v", data={"code": code}, follow_redirects=True).status_code == 200
    with rotated.app_context():
        db.session.remove()
        db.engine.dispose()


# --- voiding a batch --------------------------------------------------------------------------


def _batch_of(app, plain: str) -> int:
    with app.app_context():
        return db.session.get(BallotCode, hash_code(normalise_code(plain), app.config["CODE_KEY"])).batch_id


def test_void_batch_by_cli(app, runner, client, campaign, issue, answers_for, code_status, count_rows):
    codes = issue(campaign["evaluation"], "党员", 4)
    other_batch = issue(campaign["evaluation"], "党员", 1)[0]
    assert client.post("/v", data={**(answers_for(campaign["evaluation"])), "code": codes[0], "ballot": "1"}).status_code == 303
    batch = _batch_of(app, codes[0])

    result = runner.invoke(args=["codes", "void", str(batch)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "3" in result.stderr  # three unused codes voided

    assert code_status(codes[0]) is CodeStatus.USED     # the used code keeps its ballot
    assert count_rows(BallotCode, BallotCode.status == CodeStatus.VOID) == 3
    assert code_status(other_batch) is CodeStatus.UNUSED  # other batches untouched
    assert count_rows(db.metadata.tables["ballot_box"]) == 1  # sealed, counted at close
    with app.app_context():
        assert db.session.get(CodeBatch, batch).voided_at is not None

    page = client.post("/v", data={"code": codes[1]}, follow_redirects=True)
    assert page.status_code == 410
    assert "测评码已作废" in page.get_data(as_text=True)
    posted = client.post("/v", data={**(answers_for(campaign["evaluation"])), "code": codes[2], "ballot": "1"})
    assert posted.status_code == 410
    assert count_rows(db.metadata.tables["ballot_box"]) == 1
    assert client.post("/v", data={"code": other_batch}, follow_redirects=True).status_code == 200


def test_void_unknown_batch_fails_clearly(runner):
    result = runner.invoke(args=["codes", "void", "999999"])
    assert result.exit_code != 0
    assert "999999" in result.stderr
    assert result.stdout == ""
