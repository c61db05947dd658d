"""/task with many co-operating units: counts by status, the viewer's own unit still listed,
a button that lists them all."""

from __future__ import annotations

from bot.storage.models import Assignment, Unit
from tests.services.factories import NOW

from .conftest import COORDINATOR, FINANCE


async def add_co_units(h, count: int, *, in_progress: int = 0) -> None:
    """`count` more co-operating units on both milestones of SR-1 (the first `in_progress`
    of them 进行中)."""
    async with h.ledger.session_maker() as s:
        lead = await s.get(Assignment, h.ledger.assignments[("SR-1", 0, "sr_health")])
        other = await s.get(Assignment, h.ledger.assignments[("SR-1", 1, "sr_health")])
        for n in range(count):
            unit = Unit(name=f"上饶市第{n}配合局", short_name=f"第{n}局", jurisdiction="上饶市")
            s.add(unit)
            await s.flush()
            for base in (lead, other):
                status = "in_progress" if n < in_progress else "not_started"
                s.add(
                    Assignment(
                        milestone_id=base.milestone_id,
                        unit_id=unit.id,
                        role="co",
                        due=base.due,
                        assigned_at=NOW,
                        status=status,
                    )
                )
        await s.commit()


async def test_many_co_units_become_counts_with_a_button_to_list_them(h):
    await add_co_units(h, 6, in_progress=2)
    card = await h.send(COORDINATOR, "/task SR-1")
    assert card.text.count("配合单位 7：未开始 5 · 进行中 2") == 2  # 6 added + 市财政局
    assert (
        "第0局" not in card.text and "上饶市卫生健康委员会" in card.text
    )  # the lead stays listed
    full = await h.press(COORDINATOR, card.button("全部配合单位"))
    assert "第0局" in full.text and "第5局" in full.text and "配合单位 7" not in full.text
    assert "全部配合单位" not in str(full.buttons())


async def test_the_viewers_own_co_unit_stays_listed(h):
    await add_co_units(h, 6)
    card = await h.send(FINANCE, "/task SR-1")
    assert "市财政局" in card.text and "配合单位 7：未开始 7" in card.text
    assert "第0局" not in card.text
    assert any("签收" in label for label, _ in card.buttons())  # the report buttons stay


async def test_few_co_units_are_listed_one_by_one(h):
    await add_co_units(h, 4)
    card = await h.send(COORDINATOR, "/task SR-1")
    assert "第3局" in card.text and "配合单位 5" not in card.text
    assert "全部配合单位" not in str(card.buttons())
