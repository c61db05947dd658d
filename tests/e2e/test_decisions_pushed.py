"""End to end: the real bot process against the local Bot API server. A liaison reports one
item 已完成 and asks to extend another; the coordinator gets both at once (a decision notice
due the instant the report was recorded, sent on the next tick) with the decision buttons, and
pressing 办结 and 批准 decides: the liaison is told each decision."""

from __future__ import annotations

import re

from sqlmodel import select

from bot.storage.db import make_engine, make_session_maker
from bot.storage.models import Outbox

from .world import World, text_of

UNIT = "上饶市卫生健康委员会"


async def decision_rows(world: World) -> list[Outbox]:
    engine = make_engine(world.env["DATABASE_URL"])
    try:
        async with make_session_maker(engine)() as session:
            found = await session.exec(select(Outbox).where(Outbox.kind == "decision"))
            return list(found.all())
    finally:
        await engine.dispose()


async def test_completion_and_extension_reach_the_coordinator_with_buttons(world: World):
    coordinator = world.coordinator
    liaison = await world.liaison(UNIT, "张三")
    my = await liaison.ask("/my", match="我的事项")
    refs = [b["text"].split()[-1] for row in my.buttons for b in row]
    refs = [r for r in refs if re.fullmatch(r"SR-\w+", r)]
    done_ref, late_ref = refs[0], refs[1]

    mark = (await coordinator.messages())[-1].message_id
    await liaison.ask(f"/report {done_ref} 已完成 验收材料已报", match="已报送")
    await liaison.ask(f"/report {late_ref} 申请延期 2027-06-30 资金未到位", match="延期")

    # both reach the coordinator, each with its decision buttons (one notice, or two when a
    # tick fell between the reports)
    seen: dict[str, object] = {}
    after = mark
    while len(seen) < 2:
        notice = await coordinator.wait_for("待您决定", after=after, timeout=30)
        after = notice.message_id
        labels = [b["text"] for row in notice.buttons for b in row]
        if done_ref in text_of(notice):
            assert any(f"办结 {done_ref}" in x for x in labels), labels
            seen[done_ref] = notice
        if late_ref in text_of(notice):
            assert any(f"批准 {late_ref}" in x for x in labels), labels
            assert "2027" in text_of(notice)
            seen[late_ref] = notice
    rows = await decision_rows(world)
    assert rows and all(r.not_before <= r.created_at for r in rows)  # due at once, no delay

    # 办结 decides: the liaison is told
    liaison_mark = (await liaison.messages())[-1].message_id
    await coordinator.press(seen[done_ref], f"办结 {done_ref}")
    told = await liaison.wait_for(
        lambda m: done_ref in text_of(m) and "办结" in text_of(m), after=liaison_mark
    )
    # 批准 decides: the liaison is told the new due date
    await coordinator.press(seen[late_ref], f"批准 {late_ref}")
    approved = await liaison.wait_for(
        lambda m: late_ref in text_of(m) and "延期申请已批准" in text_of(m),
        after=told.message_id,
    )
    assert "2027" in text_of(approved)

    # a second press on the same notice decides nothing twice: it says who decided
    again = await coordinator.press(seen[done_ref], f"办结 {done_ref}")
    assert "已由" in (again.text or ""), again.answer
