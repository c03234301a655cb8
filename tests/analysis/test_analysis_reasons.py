"""The make-up reason in both languages (analysis.reasons, rule 7).

An English page shows ``reason_en``, a Chinese one ``reason_zh``: each must read as a
sentence on its own. The Chinese sentences stay exactly as printed reports have them.
"""

from __future__ import annotations

import pandas as pd

from analysis.reasons import reason_texts

COLUMNS = ["evaluation_id", "unit_id", "n_ballots", "min_ballots", "threshold", "n_rated_items",
           "n_unsatisfactory", "judged", "needs_makeup"]


def _units(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


UNSAT = pd.DataFrame({"evaluation_id": [3, 3, 3, 6], "unit_id": [30, 30, 30, 60], "item_id": [2, 1, 3, 9],
                      "position": [2, 1, 3, 1], "text": ["分析原因", "查找突出问题情况", "整改措施", "唯一指标"],
                      "rate": [0.4, 0.52, 0.55, 0.5]})
UNITS = _units(
    (1, 10, 1, 8, 0.6, 0, 0, False, False),   # one ballot: not judged
    (2, 20, 9, 8, 0.6, 0, 0, True, False),    # nothing rated
    (3, 30, 25, 8, 0.6, 5, 3, True, True),    # make-up, three items listed in position order
    (4, 40, 10, 8, 0.6, 5, 1, True, False),   # a minority below
    (5, 50, 10, 8, 0.625, 1, 0, True, False),  # the only indicator is fine
    (6, 60, 10, 8, 0.6, 1, 1, True, True),    # the only indicator is below: make-up
)


def test_reasons_in_english_read_as_sentences():
    _, english = reason_texts(UNITS, UNSAT)
    assert english.tolist() == [
        "Only 1 ballot, fewer than the minimum of 8; not judged",
        "No indicator received valid answers; no make-up decision",
        "3 of 5 indicators below 60%: 查找突出问题情况 52.0%, 分析原因 40.0%, 整改措施 55.0%",
        "1 of 5 indicators below 60%, not a majority",
        "None of 1 indicator below 62.5%",
        "1 of 1 indicator below 60%: 唯一指标 50.0%",
    ]


def test_reasons_in_chinese_are_unchanged():
    chinese, _ = reason_texts(UNITS, UNSAT)
    assert chinese.tolist() == [
        "有效票 1 张,少于最低 8 张,不作评判",
        "没有获得有效评价的指标,不作补课判定",
        "5 项指标中有 3 项低于 60%:查找突出问题情况 52.0%、分析原因 40.0%、整改措施 55.0%",
        "5 项指标中有 1 项低于 60%,未过半数",
        "1 项指标均不低于 62.5%",
        "1 项指标中有 1 项低于 60%:唯一指标 50.0%",
    ]


def test_reasons_keep_the_units_index():
    shuffled = UNITS.iloc[[2, 0]].set_index(pd.Index([7, 3]))
    chinese, english = reason_texts(shuffled, UNSAT)
    assert list(english.index) == [7, 3] and list(chinese.index) == [7, 3]
    assert english[3].startswith("Only 1 ballot") and chinese[7].startswith("5 项指标中有 3 项")
