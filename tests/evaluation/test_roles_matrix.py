"""Every URL × every role: what each view declares (``allowed_roles``) is what it enforces.

The expectations are derived from the URL map and the roles each view declares
through ``role_required``, never from a hand-written list, so routes added later
are covered the moment they exist. URL parameters are filled with real ids from
a seeded campaign (two units; the liaison belongs to the first). POST-only
routes are POSTed with an empty form: whatever they refuse, they must not fail.

A route that forgets its decorator fails here twice: it declares no roles, and
an anonymous request is not sent to the sign-in page.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from results_data import PASSWORD, SCRIPT_NAME, login, make_token, seed_results
from sqlalchemy import select

from extensions import db
from models import Role

PUBLIC_ENDPOINTS = {"static", "auth.login"}
#: Needs a signed-in account but is no admin page (and would end the session of the test client).
SIGN_OUT = "auth.logout"
METHODS = ("GET", "POST")


@pytest.fixture()
def world(app, campaign, scan_dir):
    """Seeded results plus a viewer and a liaison of unit A; ids for every URL parameter."""
    from evaluation.services import create_user
    from models import CodeBatch, Evaluation, User

    ids = seed_results(app, campaign)
    with app.app_context():
        create_user("viewer1", PASSWORD, "viewer")
        create_user("liaison1", PASSWORD, "liaison", ids["unit_a"])
        evaluation = db.session.get(Evaluation, ids["a"])
        item = next(i for i in evaluation.questionnaire.items if i.scale_id)
        batch = {e: db.session.scalar(select(CodeBatch.id).where(CodeBatch.evaluation_id == e).limit(1))
                 for e in (ids["a"], ids["b"])}
        viewer_id = db.session.scalar(select(User.id).where(User.username == "viewer1"))
        own = {"campaign_id": ids["campaign"], "evaluation_id": ids["a"], "unit_id": ids["unit_a"],
               "batch_id": batch[ids["a"]], "group_id": campaign["groups"]["党员"],
               "questionnaire_id": evaluation.questionnaire_id, "item_id": item.id, "scale_id": item.scale_id,
               "user_id": viewer_id, "code": ids["codes"][0], "token": "0" * 22,
               "fmt": "csv"}
        own.update(_work_ids(evaluation, ids, viewer_id))
    # scan batches (string ids) and review tokens share names with code batches and API tokens
    own["_sheets"] = _sheet_ids(app, ids)
    other = {"evaluation_id": ids["b"], "unit_id": ids["unit_b"], "batch_id": batch[ids["b"]]}
    return {**ids, "own": own, "other": other}


def _sheet_ids(app, ids: dict) -> dict:
    """A real scan batch with one sheet waiting for review (a faint mark): its batch, token and crop name."""
    import io
    import re

    from tests.evaluation import sheet_scans
    from tests.evaluation.sheets_data import print_sheets, scans, some_answers
    from tests.evaluation.test_sheets_read import faint

    printed = print_sheets(app, ids["a"], 1)
    images = scans(printed, some_answers(app, ids["a"], 1), extra={0: faint})
    client = app.test_client()
    login(client, ids["organiser"])
    uploaded = client.post(f"/admin/evaluations/{ids['a']}/sheets/upload", content_type="multipart/form-data",
                           data={"files": [(io.BytesIO(sheet_scans.encode(images[0])), "sheet.png")]})
    batch = uploaded.headers["Location"].rsplit("/", 1)[-1]
    while not client.post(f"/admin/sheets/{batch}/step", headers={"Accept": "application/json"}).get_json()["finished"]:
        pass
    review = client.get(f"/admin/sheets/{batch}/review").headers["Location"]
    name = re.search(r'src="[^"]+/review/[^/"]+/([^/"]+)\.png"', client.get(review).get_data(as_text=True)).group(1)
    client.get("/logout")
    return {"batch_id": batch, "token": review.rsplit("/", 1)[-1], "name": name}


def _work_ids(evaluation, ids: dict, user_id: int) -> dict:
    """Real rows for the remaining URL parameters: a stage and step, a report, a suggestion, a paper entry."""
    from evaluation.codes import paper
    from evaluation.services import issue_codes
    from evaluation.work import lookback, reports, stages, suggestions
    from models import Campaign, PaperEntry, Unit, User

    organiser = db.session.scalar(select(User).where(User.role == Role.ORGANISER).limit(1))
    plan = stages.create_standard_plan(db.session.get(Campaign, ids["campaign"]), organiser)
    report = reports.submit(ids["unit_a"], "分析检查报告", organiser)
    suggestion = suggestions.submit(db.session.get(Unit, ids["unit_a"]), next(iter(suggestions.CATEGORIES)), "建议")
    item = next(i for i in evaluation.questionnaire.items if i.scale_id)
    code = issue_codes(evaluation.id, "党员", 1)[0]
    evaluation.paper_double_entry = True  # the first of two entries waits for the second: a paper entry row
    paper.enter(evaluation, code, [(item.id, 0, item.scale.options[0].id, None)], organiser)
    db.session.commit()
    return {"stage_id": plan[0].id, "step_id": plan[0].steps[0].id, "report_id": report.id,
            "suggestion_id": suggestion.id, "kind": next(iter(lookback.LOOKBACKS)),
            "entry_id": db.session.scalar(select(PaperEntry.id).limit(1)), "filename": "css/ceping.css"}


def rules(app):
    """(rule, endpoint, view, methods) for every URL of the app, in a stable order."""
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        methods = [m for m in METHODS if m in rule.methods]
        found.append((rule, rule.endpoint, app.view_functions[rule.endpoint], methods))
    return found


def url_for_rule(rule, values: dict) -> str:
    """The rule's path with every argument filled from ``values``: real, seeded ids only.

    A guessed id would only test "not found"; a route whose argument is not seeded
    fails here, so the fixture learns to seed it.
    """
    if rule.rule.startswith("/admin/sheets/"):
        values = {**values, **values.get("_sheets", {})}
    missing = [name for name in rule.arguments if name not in values]
    if missing:
        pytest.fail(f"{rule.rule}: no seeded value for {missing}: add it to the world fixture")
    return rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]


def is_admin(rule) -> bool:
    return rule.rule.startswith("/admin")


def is_api(rule) -> bool:
    return rule.rule.startswith("/api/")


def goes_to_login(response) -> bool:
    return response.status_code in (301, 302, 303) and urlsplit(response.headers["Location"]).path == "/login"


def request(client, method: str, url: str, **kwargs):
    # buffered: a streamed export is read and closed inside the request, not left to the collector.
    if method == "GET":
        return client.get(url, buffered=True, **kwargs)
    return client.open(url, method=method, data={}, buffered=True, **kwargs)


def undeclared_views(app) -> list[str]:
    """Admin endpoints whose view declares no roles."""
    return [endpoint for rule, endpoint, view, _ in rules(app)
            if is_admin(rule) and not getattr(view, "allowed_roles", None)]


def anonymous_failures(app, client, values: dict) -> list[str]:
    """What an anonymous visitor gets that it should not, one line per request."""
    failures = []
    for rule, endpoint, _, methods in rules(app):
        for method in methods:
            url = url_for_rule(rule, values)
            response = request(client, method, url)
            where = f"{method} {url} ({endpoint}) → {response.status_code}"
            if is_admin(rule) or endpoint == SIGN_OUT:
                ok = goes_to_login(response)
            elif is_api(rule):
                ok = response.status_code == 401 and response.mimetype == "application/json"
            else:  # the rater side and the sign-in page: open to everyone, never an error of ours
                ok = response.status_code < 500 and response.status_code not in (401, 403) \
                    and not goes_to_login(response)
            if not ok:
                failures.append(where)
    return failures


def role_failures(app, client, values: dict, role: Role) -> list[str]:
    """Requests of a signed-in ``role`` whose answer contradicts the view's declared roles."""
    failures = []
    admin = [(r, e, v, m) for r, e, v, m in rules(app) if is_admin(r)]
    # GETs first: an empty POST may change things (an organiser deactivating a unit, say).
    for wanted in METHODS:
        for rule, endpoint, view, methods in admin:
            if wanted not in methods:
                continue
            url = url_for_rule(rule, values)
            response = request(client, wanted, url)
            status = response.status_code
            allowed = role in getattr(view, "allowed_roles", ())
            if status >= 500 or goes_to_login(response) or (allowed and status in (401, 403)) \
                    or (not allowed and status != 403):
                failures.append(f"{role.value} {wanted} {url} ({endpoint}) → {status}")
    return failures


def test_every_admin_view_declares_its_roles(app):
    assert undeclared_views(app) == [], "admin views without role_required(...)"


def test_anonymous_is_sent_to_sign_in_or_refused(app, client, world):
    assert anonymous_failures(app, client, world["own"]) == []


@pytest.mark.parametrize("role, username", [(Role.VIEWER, "viewer1"), (Role.LIAISON, "liaison1"),
                                            (Role.ORGANISER, "organiser1")])
def test_each_role_gets_exactly_what_views_declare(app, client, world, role, username):
    login(client, username)
    assert role_failures(app, client, world["own"], role) == []


def test_the_matrix_notices_a_forgotten_decorator(app, client, world):
    """Strip role_required from one view (as if it had been forgotten): every check above complains."""
    endpoint = "units.units"
    app.view_functions[endpoint] = app.view_functions[endpoint].__wrapped__
    assert undeclared_views(app) == [endpoint]
    assert [f for f in anonymous_failures(app, client, world["own"]) if f"({endpoint})" in f]
    login(client, "viewer1")
    assert [f for f in role_failures(app, client, world["own"], Role.VIEWER) if f"({endpoint})" in f]


def test_liaison_cannot_open_another_units_pages(app, client, world):
    login(client, "liaison1")
    scoped = set(world["other"])
    checked = 0
    for rule, endpoint, view, methods in rules(app):
        if not is_admin(rule) or Role.LIAISON not in view.allowed_roles or not scoped & set(rule.arguments):
            continue
        for method in methods:
            url = url_for_rule(rule, {**world["own"], **world["other"]})
            response = request(client, method, url)
            assert response.status_code in (403, 404), f"{method} {url} ({endpoint}) → {response.status_code}"
            checked += 1
    assert checked >= 2  # at least the unit page and its report


def test_liaison_campaign_pages_never_name_another_unit(app, client, world):
    login(client, "liaison1")
    escaped = SCRIPT_NAME.replace("<", "&lt;").replace(">", "&gt;")
    for rule, endpoint, view, methods in rules(app):
        if (not is_admin(rule) or Role.LIAISON not in view.allowed_roles or "GET" not in methods
                or set(rule.arguments) - {"campaign_id"}):
            continue
        url = url_for_rule(rule, world["own"])
        response = client.get(url)
        if response.mimetype.endswith("spreadsheetml.sheet"):  # a liaison's own results workbook (issue 14)
            import io

            import openpyxl

            book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
            body = " ".join(str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                            for cell in row if cell is not None)
        else:
            body = response.get_data(as_text=True)
        assert escaped not in body and SCRIPT_NAME not in body, f"{url} ({endpoint}) shows unit B"


def test_api_tokens_carry_role_and_scope(app, client, world):
    tokens = {"organiser": make_token(app, "organiser1"), "viewer": make_token(app, "viewer1"),
              "liaison": make_token(app, "liaison1")}
    for rule, endpoint, _, methods in rules(app):
        if not is_api(rule) or "GET" not in methods:
            continue
        own, other = url_for_rule(rule, world["own"]), url_for_rule(rule, {**world["own"], **world["other"]})
        for role, token in tokens.items():
            headers = {"Authorization": f"Bearer {token}"}
            assert client.get(own, headers=headers).status_code == 200, f"{role} {own}"
            status = client.get(other, headers=headers).status_code
            if role == "liaison" and set(world["other"]) & set(rule.arguments):
                assert status in (403, 404), f"liaison {other} → {status}"
            else:
                assert status == 200, f"{role} {other} → {status}"
