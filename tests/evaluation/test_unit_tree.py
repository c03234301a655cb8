"""The units list in tree order (issue 14): each unit indented under its parent, with 含下级 and 下级单位.

The default order walks the tree (siblings by code, so a child with a lower code than its
parent's next sibling still comes right under its parent); sorted by a column the list is the
database's order without indentation; the pages, the search and the export keep working.
"""
from __future__ import annotations

import re

import pytest
from results_data import PASSWORD

from evaluation.services import create_user
from extensions import db
from models import Campaign, Unit, UnitKind
from tests.evaluation.list_helpers import csv_rows, signed_in


@pytest.fixture()
def forest(app):
    """Two committees: 乙党委 (code A9) with 30 units of 2 branches each, and 甲党委 (code A1) with one unit.

    Codes are chosen so that code order and tree order differ: 甲党委's unit has code Z1, after
    every unit of the other committee, yet in tree order it comes right under 甲党委.
    """
    with app.app_context():
        campaign = Campaign(name="树形测试")
        first = Unit(campaign=campaign, code="A1", name="甲党委", kind=UnitKind.COMMITTEE, members=1)
        lone = Unit(campaign=campaign, parent=first, code="Z1", name="甲单位", kind=UnitKind.UNIT, members=7)
        second = Unit(campaign=campaign, code="A9", name="乙党委", kind=UnitKind.COMMITTEE, members=2)
        units = [Unit(campaign=campaign, parent=second, code=f"B{n:02d}", name=f"乙第{n:02d}单位",
                      kind=UnitKind.UNIT, members=10) for n in range(1, 31)]
        branches = [Unit(campaign=campaign, parent=unit, code=f"{unit.code}-{b}", name=f"{unit.name}{b}支部",
                         kind=UnitKind.BRANCH, members=3) for unit in units for b in (1, 2)]
        db.session.add_all([first, lone, second, *units, *branches])
        db.session.commit()
        create_user("org", PASSWORD, "organiser")
        return campaign.id


def _rows(html: str) -> list[tuple[str, str, str, str]]:
    """(name, depth, 含下级, 下级单位) of each row: the name cell's data-depth and the two count cells."""
    return re.findall(r'<td class="tree-name depth-\d" data-depth="(\d)">([^<]+)</td>\s*<td>[^<]*</td>\s*'
                      r'<td>[^<]*</td>\s*<td class="num">\d+</td><td class="num">(\d+)</td><td class="num">(\d+)</td>',
                      html)


def test_tree_order_indents_each_unit_under_its_parent_with_its_counts(app, forest):
    client = signed_in(app, "org")
    html = client.get(f"/admin/units?campaign={forest}").get_data(as_text=True)
    rows = _rows(html)
    assert len(rows) == 50 and "共 93 条" in html
    # 含下级: a unit's own figure, or its units' added up when that is more (甲党委 gives 1, its unit 7;
    # 乙第01单位 gives 10, more than its branches' 3 + 3; 乙党委 2, its 30 units 300)
    assert rows[:5] == [("0", "甲党委", "7", "1"), ("1", "甲单位", "7", "0"),
                        ("0", "乙党委", "300", "90"),  # 30 units and 60 branches below it
                        ("1", "乙第01单位", "10", "2"), ("2", "乙第01单位1支部", "3", "0")]
    assert "人数合计 307" in html  # the two committees' 7 + 300, each member once
    assert "<th scope=\"col\" class=\"num\">含下级</th>" in html and "下级单位</th>" in html
    page_two = _rows(client.get(f"/admin/units?campaign={forest}&page=2").get_data(as_text=True))
    assert len(page_two) == 43 and page_two[0][1] == "乙第16单位2支部"  # the tree goes on where page 1 stopped
    # Searching keeps the tree order; a unit's branches follow it, indented.
    found = _rows(client.get(f"/admin/units?campaign={forest}&q=乙第07").get_data(as_text=True))
    assert [(d, n) for d, n, _m, _b in found] == [("1", "乙第07单位"), ("2", "乙第07单位1支部"), ("2", "乙第07单位2支部")]


def test_sorted_by_a_column_no_indentation_and_a_link_back_to_the_tree(app, forest):
    client = signed_in(app, "org")
    html = client.get(f"/admin/units?campaign={forest}&sort=code").get_data(as_text=True)
    assert "tree-name" not in html and "按层级排列" in html
    codes = re.findall(r"<tr[^>]*>\s*<td>([^<]+)</td>", html)
    assert codes[:4] == ["A1", "A9", "B01", "B01-1"] and "Z1" not in codes  # Z1 sorts last by code
    assert "按层级排列" not in client.get(f"/admin/units?campaign={forest}").get_data(as_text=True)


def test_the_export_follows_the_tree_order_and_keeps_the_import_columns(app, forest):
    client = signed_in(app, "org")
    rows = csv_rows(client.get(f"/admin/units/export.csv?campaign={forest}"))
    assert rows[0][:5] == ["编码", "名称", "上级编码", "类型", "人数"] and len(rows) == 1 + 93
    assert [r[0] for r in rows[1:5]] == ["A1", "Z1", "A9", "B01"]
    by_code = csv_rows(client.get(f"/admin/units/export.csv?campaign={forest}&sort=code"))
    assert by_code[-1][0] == "Z1"
    assert client.get(f"/admin/units?campaign={forest}&sort=tree&dir=desc&page=x").status_code == 200


def test_a_total_given_at_every_level_is_counted_once(app):
    """As the demo gives 人数 (a committee's count covers its units', a unit's its branches'): 含下级 and
    the campaign's total are that count, not two or three times it (the list once said 21,942 for 7,314)."""
    with app.app_context():
        campaign = Campaign(name="逐级合计")
        committee = Unit(campaign=campaign, code="C1", name="丙党委", kind=UnitKind.COMMITTEE, members=20)
        unit = Unit(campaign=campaign, parent=committee, code="U1", name="丙单位", kind=UnitKind.UNIT, members=20)
        branches = [Unit(campaign=campaign, parent=unit, code=f"U1-{b}", name=f"丙单位{b}支部",
                         kind=UnitKind.BRANCH, members=n) for b, n in ((1, 12), (2, 8))]
        db.session.add_all([committee, unit, *branches])
        db.session.commit()
        create_user("org", PASSWORD, "organiser")
        campaign_id = campaign.id
    html = signed_in(app, "org").get(f"/admin/units?campaign={campaign_id}").get_data(as_text=True)
    assert [(n, m) for _d, n, m, _b in _rows(html)] == [("丙党委", "20"), ("丙单位", "20"), ("丙单位1支部", "12"),
                                                        ("丙单位2支部", "8")]
    assert "人数合计 20" in html
