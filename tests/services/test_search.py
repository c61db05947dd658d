"""/find's service: the reach of the viewer, every word must occur, case and width folded,
LIKE's metacharacters plain."""

from __future__ import annotations

import pytest

from bot.core.roles import Roles
from bot.core.textsearch import query_words
from bot.services.search import Reach, find_items, reach_of, unit_statuses

from .factories import TODAY


async def add_item(ledger, ref: str, title: str, text: str = "", plan: str = "SR") -> int:
    unit = "sr_health" if plan == "SR" else "ln_health"
    return await ledger.item(
        ref, plan, title, [(TODAY, "")], [(unit, "lead")], text=text, position=99
    )


ALL = Roles(coordinator_all=True)


async def refs(ledger, query: str, roles: Roles = ALL) -> list[str]:
    async with ledger.session_maker() as s:
        result = await find_items(
            s, words=query_words(query), reach=reach_of(roles), page=0, page_size=50
        )
    return [item.ref for item in result.items]


async def test_reach_is_the_coordinators_plans(ledger):
    sr_only = Roles(coordinator_plan_ids=frozenset({ledger.plans["SR"]}))
    assert await refs(ledger, "建设") == ["LN-1", "SR-2"]
    assert await refs(ledger, "建设", sr_only) == ["SR-2"]
    assert await refs(ledger, "医共体", sr_only) == []


async def test_reach_of_leaders_and_of_liaisons(ledger):
    ln_leader = Roles(leader_unit_ids=frozenset({ledger.units["ln_health"]}))
    assert await refs(ledger, "建设", ln_leader) == ["LN-1"]
    sr_leader = Roles(leader_plan_ids=frozenset({ledger.plans["SR"]}))
    assert await refs(ledger, "建设", sr_leader) == ["SR-2"]
    liaison = Roles(liaison_unit_ids=frozenset({ledger.units["sr_health"]}))
    assert reach_of(liaison).empty and await refs(ledger, "建设", liaison) == []


async def test_every_word_must_occur_in_title_or_text(ledger):
    await add_item(ledger, "SR-7", "推进分级诊疗", text="建立区域医疗协作网络")
    assert await refs(ledger, "建设 医疗") == ["SR-2"]
    assert await refs(ledger, "分级诊疗 协作") == ["SR-7"]  # one in the title, one in the text
    assert await refs(ledger, "分级诊疗 不存在") == []
    assert await refs(ledger, "全文") == ["LN-1", "SR-1", "SR-2"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("100%", ["SR-7"]),
        ("%%", []),
        ("1_0", ["SR-8"]),
        ("1%0", []),
        ("率_", []),
        ("[a]", ["SR-9"]),
        ("a]", ["SR-9"]),
    ],
)
async def test_like_metacharacters_are_plain(ledger, query, expected):
    await add_item(ledger, "SR-7", "完成率100%")
    await add_item(ledger, "SR-8", "编号1_0的事项")
    await add_item(ledger, "SR-9", "方括号[a]事项")
    assert await refs(ledger, query) == expected


@pytest.mark.parametrize("query", ["abc", "ＡＢＣ", "AbC", "ａｂｃ", "abc 123", "１２３"])
async def test_case_and_width_are_folded(ledger, query):
    await add_item(ledger, "SR-7", "ＡＢＣ医院１２３号")
    await add_item(ledger, "LN-7", "abc 医院 123", plan="LN")
    assert await refs(ledger, query) == ["LN-7", "SR-7"]


async def test_statuses_and_pages(ledger):
    async with ledger.session_maker() as s:
        result = await find_items(
            s, words=query_words("全文"), reach=Reach(None), page=5, page_size=2
        )
    assert (result.total, result.page, result.pages) == (3, 1, 2)
    assert [i.ref for i in result.items] == ["SR-2"]
    assert result.items[0].statuses == {"not_started": 1}
    async with ledger.session_maker() as s:
        result = await find_items(
            s, words=query_words("公共卫生"), reach=Reach(None), page=0, page_size=2
        )
    assert result.items[0].statuses == {"not_started": 2}  # two units, each counted once


def test_unit_statuses_take_the_current_milestone():
    from datetime import date

    rows = [
        (1, "closed", date(2024, 12, 31)),
        (1, "in_progress", date(2026, 3, 31)),
        (2, "closed", date(2024, 12, 31)),
        (2, "done_reported", date(2026, 3, 31)),
        (3, "not_started", date(2026, 3, 31)),
        (3, "blocked", date(2025, 3, 31)),
    ]
    assert unit_statuses(rows) == {"in_progress": 1, "done_reported": 1, "blocked": 1}


@pytest.mark.parametrize("query", [None, "", "  ", "卫", "a", " x ", "长" * 61])
def test_too_short_or_too_long_queries_have_no_words(query):
    assert query_words(query) == []
