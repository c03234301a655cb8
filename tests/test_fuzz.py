"""Property-based fuzzing of every door a stranger can knock on: the ballot form, sign-in, the API.

Properties: never a 500; a refused ballot stores nothing (no ballot, no answer,
code still unused); an accepted ballot stores only valid answers (options of
their own item, text within the cap, every required item answered).
"""
from __future__ import annotations

import string

import pytest
from fuzz_tally import fuzzed  # noqa: F401  (fixture: counts the requests for the closing figures)
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from extensions import db

FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=string.printable, min_size=1900, max_size=2100),
    st.sampled_from(["<script>alert(1)</script>", "=cmd|' /C calc'!A0", "'; DROP TABLE ballot; --",
                     "\x00", "满意", "  ", "1e309", "-1", "0x1F"]),
)


@pytest.fixture()
def form_world(app, campaign):
    """Field names and option ids of the satisfaction questionnaire, plus foreign option ids."""
    from models import Evaluation, ItemKind, Option

    with app.app_context():
        evaluation = db.session.get(Evaluation, campaign["evaluation"])
        items = list(evaluation.questionnaire.items)
        own = {f"item_{i.id}": [o.id for o in i.scale.options] if i.scale else [] for i in items}
        required = {f"item_{i.id}" for i in items if i.required}
        text_fields = {f"item_{i.id}" for i in items if i.kind is ItemKind.TEXT}
        all_options = list(db.session.scalars(select(Option.id)))
    return {"own": own, "required": required, "text": text_fields, "all_options": all_options,
            "evaluation": campaign["evaluation"]}


def ballot_forms(world):
    """Strategy: mostly plausible forms with random damage."""
    names = sorted(world["own"])
    value = st.one_of(
        st.sampled_from(world["all_options"]).map(str),
        st.integers(min_value=-2**40, max_value=2**40).map(str),
        texts,
    )
    plausible = st.fixed_dictionaries(
        {name: st.sampled_from(world["own"][name]).map(str) for name in names if world["own"][name]})
    damage = st.dictionaries(st.one_of(st.sampled_from(names), st.text(min_size=1, max_size=12)),
                             st.one_of(value, st.lists(value, min_size=2, max_size=3)), max_size=4)
    drop = st.sets(st.sampled_from(names), max_size=3)
    return st.tuples(plausible, damage, drop)


def _counts():
    """Ballots and answers stored, once every sealed ballot is counted (as at close, without the scrub)."""
    from models import Answer, Ballot, SealedBallot
    from surveys import box

    for evaluation_id, group_id in db.session.execute(select(SealedBallot.evaluation_id, SealedBallot.rater_group_id)
                                                      .distinct()).all():
        box.count(evaluation_id, group_id, final=True)
    return (db.session.scalar(select(func.count()).select_from(Ballot)),
            db.session.scalar(select(func.count()).select_from(Answer)))


def test_fuzzed_ballot_forms_never_500_and_store_all_or_nothing(app, client, issue, form_world, fuzzed):  # noqa: F811
    from models import Answer, BallotCode, CodeStatus, Item, Option
    from surveys.codes import hash_code, normalise_code

    @FUZZ
    @given(ballot_forms(form_world))
    def check(example):
        plausible, damage, drop = example
        data = {k: v for k, v in plausible.items() if k not in drop}
        data.update(damage)
        code = issue(form_world["evaluation"], "党员", 1)[0]
        with app.app_context():
            before = _counts()
        response = client.post("/v", data={**(data), "code": code, "ballot": "1"})
        fuzzed("ballot form")
        assert response.status_code != 500 and response.status_code < 500
        with app.app_context():
            ballots, answers = _counts()
            status = db.session.scalar(select(BallotCode.status).where(
                BallotCode.code_hash == hash_code(normalise_code(code), app.config["CODE_KEY"])))
            if response.status_code == 303:
                assert ballots == before[0] + 1 and status is CodeStatus.USED
                # only forms made of our own fields, one value each, may be accepted
                assert set(data) <= set(form_world["own"])
                assert not any(isinstance(v, list) for v in data.values())
                assert form_world["required"] <= set(data)
                for answer in db.session.scalars(select(Answer)).all():
                    item = db.session.get(Item, answer.item_id)
                    if answer.option_id is not None:
                        assert db.session.get(Option, answer.option_id).scale_id == item.scale_id
                    else:
                        assert 0 < len(answer.text) <= app.config["TEXT_ANSWER_MAX"]
            else:
                assert (ballots, answers) == before and status is CodeStatus.UNUSED

    check()


@pytest.mark.parametrize("path", ["/login"])
def test_fuzzed_sign_in_never_500(app, client, path, fuzzed):  # noqa: F811
    from evaluation.services import create_user

    with app.app_context():
        create_user("fuzz-organiser", "correct-horse-1", "organiser")

    @FUZZ
    @given(st.dictionaries(st.sampled_from(["username", "password", "csrf_token", "next", "x"]),
                           texts, max_size=4),
           st.one_of(st.none(), texts))
    def check(form, next_url):
        query = {"next": next_url} if next_url is not None else {}
        response = client.post(path, data=form, query_string=query)
        fuzzed("sign-in")
        assert response.status_code in (200, 302, 400, 413, 429)
        if response.status_code == 302:
            # only the right password signs in, and never to another site
            assert form.get("password") == "correct-horse-1"
            location = response.headers["Location"]
            assert location.startswith("/") and not location.startswith("//")
            client.post("/logout")

    check()


def test_fuzzed_api_requests_are_json_and_never_500(app, client, campaign, fuzzed):  # noqa: F811
    from evaluation.services import create_user
    from evaluation.accounts.tokens import create_token

    with app.app_context():
        create_user("api-fuzz", "correct-horse-1", "organiser")
        token = create_token("api-fuzz")

    # ids past the INTEGER column (2**31 on PostgreSQL, 2**63 on SQLite) once made the database raise: a 500
    segment = st.one_of(st.sampled_from([2**31 - 1, 2**31, 2**63, 10**30]).map(str),
                        st.integers(min_value=-5, max_value=10**12).map(str),
                        st.text(alphabet=string.ascii_letters + string.digits + "-_.%", min_size=1, max_size=20))
    auth = st.one_of(st.none(), st.just(f"Bearer {token}"), texts.map(lambda t: "Bearer " + t), texts)

    @FUZZ
    @given(st.sampled_from(["evaluations", "campaigns", "units", ""]), segment,
           st.sampled_from(["results", "", "x"]), auth, st.sampled_from(["GET", "POST", "DELETE"]))
    def check(kind, ident, tail, authorization, method):
        headers = {}
        # HTTP itself cannot carry control characters or non-Latin-1 header values
        if authorization is not None and authorization.isprintable() and authorization.isascii():
            headers["Authorization"] = authorization
        response = client.open(f"/api/v1/{kind}/{ident}/{tail}", method=method, headers=headers)
        fuzzed("API")
        assert response.status_code < 500
        assert response.is_json, (response.status_code, response.data[:200])

    check()
