"""Paper ballots: single entry, double entry (agree / mismatch → reconcile), one ballot per code, secrecy.

After a paper ballot is stored no ``PaperEntry`` row may remain: it would link
the code to the answers. Audit entries name neither the code nor the answers.
"""
from __future__ import annotations

import json
import threading
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from extensions import db
from models import Answer, AuditLog, Ballot, BallotCode, CodeStatus, Evaluation, EvaluationStatus, PaperEntry
from tests.evaluation.manage_data import audit_rows, login, make_user


@pytest.fixture()
def operators(app, campaign):
    """Two organisers (op1, op2); returns the campaign dict."""
    make_user(app, "op1")
    make_user(app, "op2")
    return campaign


def _double_entry(app, evaluation_id: int, on: bool = True) -> None:
    with app.app_context():
        db.session.get(Evaluation, evaluation_id).paper_double_entry = on
        db.session.commit()


def _enter(app, username: str, evaluation_id: int, code: str, data: dict):
    """Sign in as ``username`` on a fresh client and key in one paper ballot."""
    client = app.test_client()
    login(client, username)
    return client.post(f"/admin/evaluations/{evaluation_id}/paper", data={"code": code, **data}), client


def _stored_answers(app) -> set[tuple]:
    """The answers of every stored ballot, once the box is counted (paper ballots are sealed like online ones)."""
    from models import SealedBallot
    from surveys import box

    with app.app_context():
        box.close(db.session.scalars(select(SealedBallot.evaluation_id).distinct()).all())
        return {(a.item_id, a.option_id, a.text) for a in db.session.scalars(select(Answer))}


def _changed(app, data: dict, evaluation_id: int, position: int, choice: int) -> dict:
    """``data`` with the item at ``position`` answered by option index ``choice``."""
    with app.app_context():
        item = next(i for i in db.session.get(Evaluation, evaluation_id).questionnaire.items if i.position == position)
        return {**data, f"item_{item.id}": str(item.scale.options[choice].id)}, item


def test_single_entry_stores_one_ballot_at_once(app, operators, issue, answers_for, count_rows, code_status, count_ballots):
    code = issue(operators["evaluation"])[0]
    data = answers_for(operators["evaluation"], choice=1, text="纸质票意见")
    response, client = _enter(app, "op1", operators["evaluation"], code.lower().replace("-", " "), data)
    assert response.status_code == 303
    assert "测评票已保存" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert count_ballots() == 1 and count_rows(PaperEntry) == 0
    assert code_status(code) is CodeStatus.USED
    assert ("纸质票意见" in {t for _, _, t in _stored_answers(app)})
    [entry] = audit_rows(app, "paper_entry")
    assert json.loads(entry.detail) == {"mode": "single", "outcome": "stored"} and entry.username == "op1"


def test_a_used_code_cannot_be_entered(app, operators, issue, answers_for, count_rows, client, count_ballots):
    code = issue(operators["evaluation"])[0]
    data = answers_for(operators["evaluation"])
    assert client.post("/v", data={**(data), "code": code, "ballot": "1"}).status_code == 303  # voted online
    response, _ = _enter(app, "op1", operators["evaluation"], code, data)
    assert response.status_code == 400 and "此测评码已使用" in response.get_data(as_text=True)
    assert count_ballots() == 1


@pytest.mark.parametrize("double", [False, True])
def test_refused_codes(app, operators, issue, answers_for, count_rows, double, count_ballots):
    from evaluation.services import create_evaluation, void_batch

    _double_entry(app, operators["evaluation"], double)
    data = answers_for(operators["evaluation"])
    with app.app_context():
        other = create_evaluation(operators["units"][1], "satisfaction", open_now=True).id
    foreign = issue(other)[0]
    voided = issue(operators["evaluation"])[0]
    with app.app_context():
        void_batch(db.session.scalar(select(BallotCode.batch_id).where(BallotCode.evaluation_id
                                                                       == operators["evaluation"])))
    cases = [("not-a-code", "测评码格式不正确"), ("2345-6789-ABCD", "本测评没有这个测评码"),
             (foreign, "本测评没有这个测评码"), (voided, "已作废")]
    for code, message in cases:
        response, _ = _enter(app, "op1", operators["evaluation"], code, data)
        assert response.status_code == 400 and message in response.get_data(as_text=True), code
    assert count_ballots() == 0 and count_rows(PaperEntry) == 0


def test_closed_evaluation_refuses_paper_ballots(app, operators, issue, answers_for, count_rows, count_ballots):
    code = issue(operators["evaluation"])[0]
    with app.app_context():
        db.session.get(Evaluation, operators["evaluation"]).status = EvaluationStatus.CLOSED
        db.session.commit()
    response, _ = _enter(app, "op1", operators["evaluation"], code, answers_for(operators["evaluation"]))
    assert response.status_code == 400 and "测评未开启或已结束" in response.get_data(as_text=True)
    assert count_ballots() == 0


def test_the_form_is_as_strict_as_the_raters(app, operators, issue, answers_for, count_rows, count_ballots):
    code = issue(operators["evaluation"])[0]
    data = answers_for(operators["evaluation"])
    response, _ = _enter(app, "op1", operators["evaluation"], code, {**data, "item_999999": "1"})
    assert response.status_code == 400 and "本测评表以外" in response.get_data(as_text=True)
    incomplete = dict(list(data.items())[1:])
    response, _ = _enter(app, "op1", operators["evaluation"], code, incomplete)
    assert response.status_code == 400 and "此题为必答题" in response.get_data(as_text=True)
    assert count_ballots() == 0


def test_double_entry_agreeing_stores_one_ballot_and_no_entry_remains(app, operators, issue, answers_for,
                                                                       count_rows, code_status, count_ballots):
    _double_entry(app, operators["evaluation"])
    code = issue(operators["evaluation"])[0]
    data = answers_for(operators["evaluation"], choice=2)
    first, client = _enter(app, "op1", operators["evaluation"], code, data)
    assert first.status_code == 303 and "第一遍已录入" in client.get(first.headers["Location"]).get_data(as_text=True)
    assert count_rows(PaperEntry) == 1 and count_ballots() == 0 and code_status(code) is CodeStatus.UNUSED
    second, _ = _enter(app, "op2", operators["evaluation"], code, data)
    assert second.status_code == 303
    assert count_ballots() == 1 and count_rows(PaperEntry) == 0 and code_status(code) is CodeStatus.USED
    outcomes = [json.loads(a.detail)["outcome"] for a in audit_rows(app, "paper_entry")]
    assert outcomes == ["awaiting_second", "stored"]


def test_the_same_operator_cannot_make_both_entries(app, operators, issue, answers_for, count_rows, count_ballots):
    _double_entry(app, operators["evaluation"])
    code = issue(operators["evaluation"])[0]
    data = answers_for(operators["evaluation"])
    _enter(app, "op1", operators["evaluation"], code, data)
    again, _ = _enter(app, "op1", operators["evaluation"], code, data)
    assert again.status_code == 400 and "另一位录入员" in again.get_data(as_text=True)
    assert count_ballots() == 0 and count_rows(PaperEntry) == 1


def test_mismatch_goes_to_reconciliation_and_is_counted_once(app, operators, issue, answers_for, count_rows,
                                                             code_status, count_ballots):
    _double_entry(app, operators["evaluation"])
    code = issue(operators["evaluation"])[0]
    data = answers_for(operators["evaluation"], choice=0)
    differing, item = _changed(app, data, operators["evaluation"], position=2, choice=3)
    _enter(app, "op1", operators["evaluation"], code, data)
    second, client = _enter(app, "op2", operators["evaluation"], code, differing)
    assert second.status_code == 303 and "/reconcile" in second.headers["Location"]
    assert count_ballots() == 0 and count_rows(PaperEntry) == 2
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert 'class="mismatch"' in page and item.text in page
    assert "满意" in page and "不满意" in page and "op1" in page and "op2" in page
    assert page.count('<tr class="mismatch">') == 1
    # the mismatched item is left blank; deciding it (here: 基本满意) stores the ballot
    resolved, _ = _changed(app, data, operators["evaluation"], position=2, choice=2)
    blank = {k: v for k, v in data.items() if k != f"item_{item.id}"}
    refused = client.post(second.headers["Location"], data=blank)
    assert refused.status_code == 400 and count_ballots() == 0
    done = client.post(second.headers["Location"], data=resolved)
    assert done.status_code == 303
    assert count_ballots() == 1 and count_rows(PaperEntry) == 0 and code_status(code) is CodeStatus.USED
    assert (item.id, int(resolved[f"item_{item.id}"]), None) in _stored_answers(app)
    assert client.get(second.headers["Location"]).status_code == 404  # nothing left to reconcile
    [entry] = audit_rows(app, "paper_reconcile")
    assert json.loads(entry.detail) == {"outcome": "stored", "mismatched_items": 1}


def test_a_mismatched_pair_can_be_dropped(app, operators, issue, answers_for, count_rows, code_status, count_ballots):
    _double_entry(app, operators["evaluation"])
    code = issue(operators["evaluation"])[0]
    data = answers_for(operators["evaluation"])
    _enter(app, "op1", operators["evaluation"], code, data)
    second, client = _enter(app, "op2", operators["evaluation"], code,
                            _changed(app, data, operators["evaluation"], 1, 3)[0])
    entry_id = int(second.headers["Location"].split("/")[-2])
    assert client.post(f"/admin/paper/{entry_id}/discard").status_code == 303
    assert count_rows(PaperEntry) == 0 and count_ballots() == 0 and code_status(code) is CodeStatus.UNUSED


def test_online_vote_or_void_removes_a_waiting_entry(app, operators, issue, answers_for, count_rows, client):
    from evaluation.codes.slips import void

    _double_entry(app, operators["evaluation"])
    online, voided = issue(operators["evaluation"], n=2)
    data = answers_for(operators["evaluation"])
    _enter(app, "op1", operators["evaluation"], online, data)
    _enter(app, "op1", operators["evaluation"], voided, data)
    assert count_rows(PaperEntry) == 2
    assert client.post("/v", data={**(data), "code": online, "ballot": "1"}).status_code == 303
    assert count_rows(PaperEntry) == 1  # deleted in the transaction that stored the online ballot
    with app.test_request_context():
        void(db.session.scalar(select(BallotCode.batch_id)))
    assert count_rows(PaperEntry) == 0


def test_paper_audit_entries_hold_neither_code_nor_answers(app, operators, issue, answers_for):
    _double_entry(app, operators["evaluation"])
    code = issue(operators["evaluation"])[0]
    data = answers_for(operators["evaluation"], text="秘密意见")
    _enter(app, "op1", operators["evaluation"], code, data)
    with app.app_context():
        hashes = set(db.session.scalars(select(BallotCode.code_hash)))
        option_ids = set(data.values())
    _enter(app, "op2", operators["evaluation"], code, data)
    with app.app_context():
        entries = list(db.session.scalars(select(AuditLog).where(AuditLog.action.like("paper%"))))
    assert len(entries) == 2
    for entry in entries:
        text = entry.target + entry.detail
        assert code.replace("-", "") not in text and code not in text and "秘密意见" not in text
        assert not any(h in text for h in hashes)
        assert not set(json.loads(entry.detail).values()) & option_ids


def test_only_organisers_key_in_paper_ballots(app, operators, client):
    make_user(app, "liaison1", "liaison", operators["units"][0])
    login(client, "liaison1")
    assert client.get(f"/admin/evaluations/{operators['evaluation']}/paper").status_code == 403
    assert client.post("/admin/paper/1/reconcile", data={}).status_code == 403


@pytest.mark.parametrize("double", [False, True])
def test_concurrent_entries_of_one_code_count_once(app, operators, issue, answers_for, count_rows, double, count_ballots):
    """Eight operators key in the same ballot at the same moment: one ballot, no entry left."""
    from evaluation.codes import paper
    from evaluation.services import create_user

    _double_entry(app, operators["evaluation"], double)
    code = issue(operators["evaluation"])[0]
    with app.app_context():
        ids = [create_user(f"t{i}", "correct-horse-1").id for i in range(8)]
        evaluation = db.session.get(Evaluation, operators["evaluation"])
        answers = [(i.id, 0, i.scale.options[0].id, None) for i in evaluation.questionnaire.items if i.scale]
    barrier, outcomes = threading.Barrier(8), []

    def operator(user_id: int) -> None:
        with app.test_request_context():
            evaluation = db.session.get(Evaluation, operators["evaluation"])
            barrier.wait(timeout=30)
            try:
                outcomes.append(paper.enter(evaluation, code, answers, SimpleNamespace(id=user_id)).outcome.value)
            except paper.ServiceError as error:
                outcomes.append(str(error)[:12])
            finally:
                db.session.remove()

    threads = [threading.Thread(target=operator, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(outcomes) == 8 and outcomes.count("stored") == 1, outcomes
    assert outcomes.count("awaiting_second") == (1 if double else 0), outcomes
    assert all(o.startswith("此测评码已使用") for o in outcomes if o not in ("stored", "awaiting_second")), outcomes
    assert count_ballots() == 1 and count_rows(PaperEntry) == 0
