"""Hand-made ballots for the results API, CLI and export tests, with figures worked out by hand.

Built on the ``campaign`` fixture (committee → 第一单位, 第二单位; groups 党员, 群众代表,
服务对象). The satisfaction questionnaire has six scale items (满意, 比较满意, 基本满意 are
positive, 不满意 negative, 不了解 unknown) and one free-text item.

Evaluation A, 第一单位, 10 ballots (党员 b0–b5, 群众代表 b6–b9), min_ballots 8 → judged:

====  ==================================  ===========  ==============  =================
item  answers                             pooled       党员             群众代表
====  ==================================  ===========  ==============  =================
1     all 满意                             10/10 = 1.0  6/6             4/4
2     b0–2 满意, b3–5 不满意, b6–7 比较满意,  5/10 = 0.5   3/6             2/4
      b8–9 不满意                          unsat.
3     b0–5 基本满意, b6–9 不满意            6/10 = 0.6   6/6             0/4
                                           (at 60%: ok)
4     b0–3 满意, b4–5 不了解, b6–9 不满意    4/8 = 0.5    4/4 (2 unknown) 0/4
5     all 不了解                           not rated
6     b0–2 比较满意, b3–9 不满意            3/10 = 0.3   3/6             0/4
====  ==================================  ===========  ==============  =================

Rated items 1, 2, 3, 4, 6; unsatisfactory 2, 4, 6: 3 of 5 → needs make-up.
overall_rate = (1.0 + 0.5 + 0.6 + 0.5 + 0.3) / 5 = 0.58.
Free text: b0 writes a spreadsheet formula, b1 writes HTML.

Evaluation B, 第二单位 renamed ``<script>alert(1)</script>``, 5 ballots (党员), all 满意:
not judged (5 < 8), overall_rate 1.0. The committee is renamed to a formula so the
exports must neutralise it. Committee roll-up: 2 units, 1 judged, 1 make-up,
15 ballots, mean_overall_rate 0.58 (judged units only).
"""
from __future__ import annotations

from extensions import db

FORMULA_TEXT = '=HYPERLINK("http://evil.example","点我")'
HTML_TEXT = "<b>很好</b>"
SCRIPT_NAME = "<script>alert(1)</script>"
COMMITTEE_NAME = '=HYPERLINK("http://evil.example","测试党委")'
PASSWORD = "correct-horse-1"

# option index per item (columns) per ballot (rows): 0 满意 1 比较满意 2 基本满意 3 不满意 4 不了解
A_ANSWERS = [
    [0, 0, 2, 0, 4, 1],  # b0 党员
    [0, 0, 2, 0, 4, 1],  # b1
    [0, 0, 2, 0, 4, 1],  # b2
    [0, 3, 2, 0, 4, 3],  # b3
    [0, 3, 2, 4, 4, 3],  # b4
    [0, 3, 2, 4, 4, 3],  # b5
    [0, 1, 3, 3, 4, 3],  # b6 群众代表
    [0, 1, 3, 3, 4, 3],  # b7
    [0, 3, 3, 3, 4, 3],  # b8
    [0, 3, 3, 3, 4, 3],  # b9
]
A_GROUPS = ["党员"] * 6 + ["群众代表"] * 4
A_TEXTS = {0: FORMULA_TEXT, 1: HTML_TEXT}

#: Expected pooled figures of evaluation A per item position: (n_valid, n_positive, rate).
A_ITEMS = {1: (10, 10, 1.0), 2: (10, 5, 0.5), 3: (10, 6, 0.6), 4: (8, 4, 0.5), 5: (0, 0, None),
           6: (10, 3, 0.3)}
#: Hand-checked Wilson 95% interval of item 3 (6 of 10).
A_ITEM3_CI = (0.312674, 0.831820)
#: Answers stored: A has 10 × 6 scale answers + 2 texts, B 5 × 6.
N_ANSWERS = 10 * 6 + 2 + 5 * 6


def _submit(app, evaluation_id: int, group: str, choices: list[int], text: str | None) -> list[str]:
    """Issue one code and store its ballot with these choices; return the plain code."""
    from evaluation.services import issue_codes
    from models import Evaluation, ItemKind
    from surveys.ballots import SubmitResult, submit_ballot
    from surveys.codes import hash_code, normalise_code

    code = issue_codes(evaluation_id, group, 1)[0]
    evaluation = db.session.get(Evaluation, evaluation_id)
    group_id = next(g.id for g in evaluation.rater_groups if g.name == group)
    answers, scale_items = [], [i for i in evaluation.questionnaire.items if i.kind is ItemKind.SCALE]
    for item, choice in zip(scale_items, choices):
        answers.append((item.id, 0, item.scale.options[choice].id, None))
    if text is not None:
        text_item = next(i for i in evaluation.questionnaire.items if i.kind is ItemKind.TEXT)
        answers.append((text_item.id, 0, None, text))
    key = app.config["CODE_KEY"]
    assert submit_ballot(hash_code(normalise_code(code), key), evaluation_id, group_id, answers) \
        is SubmitResult.STORED
    return code


def seed_results(app, campaign: dict) -> dict:
    """Store the ballots described above; return ids, the plain codes and an organiser name."""
    from evaluation.services import create_evaluation, create_user
    from models import Unit

    with app.app_context():
        unit_b = db.session.get(Unit, campaign["units"][1])
        unit_b.name = SCRIPT_NAME
        db.session.get(Unit, campaign["committee"]).name = COMMITTEE_NAME
        db.session.commit()
        evaluation_b = create_evaluation(unit_b.id, "satisfaction", ["党员"], open_now=True).id
        codes = [_submit(app, campaign["evaluation"], group, choices, A_TEXTS.get(n))
                 for n, (group, choices) in enumerate(zip(A_GROUPS, A_ANSWERS))]
        codes += [_submit(app, evaluation_b, "党员", [0] * 6, None) for _ in range(5)]
        # Voting is over for these figures: count every sealed ballot, as closing does (surveys/box.py).
        from surveys import box

        box.close([campaign["evaluation"], evaluation_b])
        create_user("organiser1", PASSWORD, "organiser")
    return {"campaign": campaign["campaign"], "a": campaign["evaluation"], "b": evaluation_b,
            "unit_a": campaign["units"][0], "unit_b": campaign["units"][1],
            "committee": campaign["committee"], "codes": codes, "organiser": "organiser1"}


def make_token(app, username: str, role: str = "organiser", unit_id: int | None = None) -> str:
    """Create the account if needed (with ``role``) and return a fresh API token for it."""
    from evaluation.services import create_user
    from evaluation.accounts.tokens import create_token
    from models import User

    with app.app_context():
        if db.session.scalar(db.select(User.id).where(User.username == username)) is None:
            create_user(username, PASSWORD, role, unit_id)
        return create_token(username)


def login(client, username: str) -> None:
    """Sign the test client in (CSRF is off in TestConfig)."""
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
