"""Property-based fuzzing of the organisers' questionnaire editor, the campaign-work forms and the
public suggestion form (征求意见): random, missing, duplicated, oversized and wrongly typed fields.

Properties, for every request:

* never a 500, and a refusal (400) says why in Chinese;
* questionnaire editor: a refused edit changes no row of any questionnaire; an accepted one
  leaves every edited questionnaire answerable and scorable (items numbered 1…n, choice items
  with 2–20 distinct options, rated items with a positive and a negative option, finite scores,
  quiz keys complete), its preview and editor pages render with any script in its text inert,
  and no other questionnaire ever changes;
* suggestions, rectification items, report rounds, step notes and look-back checklists: a
  refused form stores nothing, and nothing stored holds a control character or exceeds its limit;
  a suggestion keeps its text and its day only.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import string

from fuzz_editor import (
    BASE, check_answerable, copy_questionnaire, dates, editor_request, editor_specs, mostly, numbers,
    questionnaire_rows, small_ids, texts,
)
from fuzz_tally import fuzzed  # noqa: F401  (fixture)
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from extensions import db

FUZZ = settings(deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
PASSWORD = "correct-horse-1"
CJK = re.compile("[\u4e00-\u9fff]")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

def refusal_ok(response) -> bool:
    """A 400 page names its reason in Chinese (a field error, a problem banner or the error page)."""
    html = response.get_data(as_text=True)
    reasons = (re.findall(r'<div class="errors"[^>]*><ul>(.*?)</ul>', html, re.S)
               + re.findall(r'<p class="errors"[^>]*>(.*?)</p>', html, re.S)
               + re.findall(r'<p class="flash flash-error"[^>]*>(.*?)</p>', html, re.S)
               + re.findall(r'<section class="card notice">\s*<h1>.*?</h1>\s*<p>(.*?)</p>', html, re.S)
               # a report round refused while the last one awaits its verdict: the page says so in its hint
               or re.findall(r'<p class="hint">(第 \d+ 轮评议进行中.*?)</p>', html, re.S))
    return bool(reasons) and all(CJK.search(r) for r in reasons)


def sign_in(app, role: str, unit_id: int | None = None):
    from evaluation.services import create_user

    client = app.test_client()
    with app.app_context():
        create_user(f"fuzz-{role}", PASSWORD, role, unit_id)
    assert client.post("/login", data={"username": f"fuzz-{role}", "password": PASSWORD}).status_code == 302
    return client


# --- the questionnaire editor ----------------------------------------------------------------------


def test_fuzzed_questionnaire_edits_keep_every_questionnaire_answerable(app, campaign, fuzzed):  # noqa: F811
    from models import Evaluation

    editor = sign_in(app, "organiser")
    survey = copy_questionnaire(editor, app, "satisfaction", "fuzz-survey")
    quiz = copy_questionnaire(editor, app, "learning_test", "fuzz-quiz")
    with app.app_context():  # the campaign's open evaluation froze its questionnaire
        frozen = db.session.get(Evaluation, campaign["evaluation"]).questionnaire_id
    untouched = {k: v for k, v in questionnaire_rows(app).items() if k not in (survey, quiz)}

    @settings(FUZZ, max_examples=120)
    @given(editor_specs)
    def check(spec):
        path, form = editor_request(app, spec, [survey, quiz], frozen)
        before = questionnaire_rows(app)
        response = editor.post(path, data=form)
        fuzzed("questionnaire editor")
        assert response.status_code in (302, 400, 404, 409, 413), (path, response.status_code)
        after = questionnaire_rows(app)
        if response.status_code != 302:
            assert after == before, path
            if response.status_code in (400, 413):
                assert refusal_ok(response), response.get_data(as_text=True)[:1500]
        assert {k: v for k, v in after.items() if k not in (survey, quiz)} == untouched
        for qid in (survey, quiz):
            if after[qid] != before[qid]:
                check_answerable(app, qid)
                for page in ("preview", ""):  # the rater's template, and the editor
                    shown = editor.get(f"{BASE}/{qid}/{page}".rstrip("/"))
                    assert shown.status_code == 200 and "<script>alert" not in shown.get_data(as_text=True)

    check()


# --- suggestions and the campaign-work forms -------------------------------------------------------


def stored_texts(app) -> list[tuple[str, str, int]]:
    """(what, text, limit) of every free text the work forms and the suggestion form stored."""
    from models import AnalysisReport, LookBack, RectificationItem, Suggestion, UnitStep

    with app.app_context():
        db.session.expire_all()
        out = [("suggestion", s.text, 1000) for s in db.session.scalars(select(Suggestion))]
        out += [("report", r.text, 20000) for r in db.session.scalars(select(AnalysisReport))]
        out += [("step", s.note, 1000) for s in db.session.scalars(select(UnitStep))]
        out += [("look-back", a["note"], 1000) for row in db.session.scalars(select(LookBack))
                for a in json.loads(row.answers or "[]")]
        limits = {"project": 200, "goal": 2000, "measures": 2000, "responsible": 100, "commitment": 2000}
        out += [(f"rectification {k}", getattr(r, k) or "", n) for r in db.session.scalars(select(RectificationItem))
                for k, n in limits.items()]
        return out


def row_counts(app) -> dict[str, int]:
    from models import AnalysisReport, RectificationItem, Suggestion

    with app.app_context():
        return {m.__name__: db.session.scalar(select(func.count()).select_from(m))
                for m in (Suggestion, RectificationItem, AnalysisReport)}


@st.composite
def work_requests(draw, world: dict) -> tuple[str, str, dict, str | None]:
    """(who, path, form, model a success adds a row to) for one public or campaign-work form."""
    unit = draw(st.one_of(st.sampled_from(world["units"][:1]), st.sampled_from(world["units"]), small_ids))
    target = draw(st.sampled_from(["suggestion", "rectification", "suggestion", "report", "step", "look-back"]))
    extra = draw(st.dictionaries(st.text(string.ascii_lowercase + "-_0123456789", min_size=1, max_size=10), texts,
                                 max_size=2))
    if target == "suggestion":
        form = {"category": draw(st.one_of(st.sampled_from(["ideas", "problems", "conduct", "other", ""]), texts)),
                "text": draw(mostly("建议多听群众意见"))}
        return "public", f"/s/{unit}", {**extra, **form}, "Suggestion"
    if target == "rectification":
        form = {"project": draw(mostly("整改项目")), "goal": draw(mostly("")), "deadline": draw(mostly("", dates)),
                "measures": draw(mostly("")), "responsible": draw(mostly("张三")), "commitment": draw(mostly("")),
                "done_on": draw(mostly("", dates)),
                "category": draw(st.sampled_from(["immediate", "period", "hard", "x", ""])),
                "status": draw(st.sampled_from(["planned", "in_progress", "done", "x"])),
                "makeup_id": draw(st.one_of(st.just("0"), numbers))}
        return "liaison", f"/admin/work/units/{unit}/rectification", {**extra, **form}, "RectificationItem"
    if target == "report":
        return "organiser", f"/admin/work/units/{unit}/reports", {**extra, "text": draw(mostly("分析检查报告")),
                                                             "open_now": draw(st.sampled_from(["y", ""]))}, None
    if target == "step":
        step = draw(st.one_of(st.sampled_from(world["steps"]), small_ids))
        form = {"done_on": draw(mostly("2009-03-01", dates)), "note": draw(mostly("")),
                "undo": draw(st.sampled_from(["", "", "y"]))}
        return "liaison", f"/admin/work/units/{unit}/steps/{step}", {**extra, **form}, None
    kind = draw(st.sampled_from(["three_comparisons", "three_reviews", "x"]))
    form = {f"answers-{n}-{f}": draw(st.one_of(st.sampled_from(["yes", "partly", "no", ""]), texts) if f == "answer"
                                     else mostly(""))
            for n in range(draw(st.sampled_from([3, 3, 0, 2, 4]))) for f in ("answer", "note")}
    return "liaison", f"/admin/work/units/{unit}/lookback/{kind}", {**extra, **form}, None


def test_fuzzed_work_and_suggestion_forms_store_only_clean_text(app, campaign, fuzzed):  # noqa: F811
    from evaluation.work import stages
    from models import Campaign, Suggestion

    with app.app_context():
        stages.create_standard_plan(db.session.get(Campaign, campaign["campaign"]), None)
        steps = [s.id for stage in stages.plan(campaign["campaign"]) for s in stage.steps]
    clients = {"public": app.test_client(), "organiser": sign_in(app, "organiser"),
               "liaison": sign_in(app, "liaison", campaign["units"][0])}
    world = {"units": campaign["units"] + [campaign["committee"]], "steps": steps}

    @settings(FUZZ, max_examples=120)
    @given(st.data())
    def check(data):
        who, path, form, model = data.draw(work_requests(world))
        before = row_counts(app)
        response = clients[who].post(path, data=form)
        fuzzed("suggestion form" if who == "public" else "work forms")
        assert response.status_code in (302, 400, 403, 404, 413), (path, response.status_code)
        if response.status_code in (400, 413):
            assert refusal_ok(response), (path, response.get_data(as_text=True)[:1500])
        after = row_counts(app)
        if model:
            assert after[model] == before[model] + (response.status_code == 302), path
        for what, text, limit in stored_texts(app):
            assert not CONTROL.search(text) and len(text) <= limit, (what, text[:50])
        if model == "Suggestion" and response.status_code == 302:
            with app.app_context():
                stored = db.session.scalars(select(Suggestion).order_by(Suggestion.id.desc())).first()
                assert stored.text == form["text"].strip() and isinstance(stored.submitted_on, dt.date)

    check()


# --- ids past the INTEGER column -------------------------------------------------------------------


def test_ids_past_the_integer_column_are_404_not_500(app, campaign, fuzzed):  # noqa: F811
    """An id the INTEGER column cannot hold is a 404 in the URL and "not given" in ?campaign= (ids.py)."""
    organiser = sign_in(app, "organiser")
    public = app.test_client()
    for n in (2**31, 2**63, 10**30):
        for client, url in ((public, f"/s/{n}"), (public, f"/c/{n}"), (organiser, f"/admin/units/{n}/edit"),
                            (organiser, f"/admin/units?campaign={n}"), (organiser, f"/admin/work/units/{n}"),
                            (organiser, f"/admin/evaluations/{n}"), (organiser, f"/admin/reports/{n}")):
            fuzzed("ids past the INTEGER column")
            assert client.get(url).status_code == 404, url


def test_a_refused_survey_item_says_why_even_for_fields_it_does_not_show(app, fuzzed):  # noqa: F811
    """A survey's item form drops the quiz-only fields, so a forged one cannot refuse it silently."""
    editor = sign_in(app, "organiser")
    survey = copy_questionnaire(editor, app, "satisfaction", "fuzz-hidden")
    response = editor.post(f"{BASE}/{survey}/items/new", data={"text": "新题目", "kind": "single", "scale": "new",
                                                               "points": "abc"})
    fuzzed("questionnaire editor")
    assert response.status_code == 302 or refusal_ok(response)
