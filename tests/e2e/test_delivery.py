"""End to end: reminders and digests from the real bot process, through crashes and faults.

- A liaison registered just before 09:00 on 2025-12-24 gets the 7-day reminders of the items
  due 2025-12-31, presses 进行中 on one, and the report is recorded.
- A weekly digest to 200 plan leaders is cut by SIGKILL while one message hangs in flight; after
  the restart every leader has the scorecard picture first and then the whole digest, and
  nobody has anything twice except, at most, the message that was in flight. The picture is
  drawn and uploaded once per process (then sent by its file_id).
- With the server answering 429 and 500 to many of those sends, every digest (picture and
  text) arrives once.

Leaders are written straight into the bot's database (a roster import), while the bot runs:
the planner reads the roster at every tick, so the next tick addresses them.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from bot.storage.db import make_engine, make_session_maker
from bot.storage.models import (
    IN_PROGRESS,
    ROLE_LEADER,
    Membership,
    Outbox,
    Person,
    Plan,
    SentMessage,
    StatusEvent,
)

from .world import World, text_of

UNIT = "上饶市卫生健康委员会"
REMINDER_MORNING = "2025-12-24T08:59:55+08:00"  # a Wednesday: 7 days before 2025-12-31
# one message per item and stage (the policy's brief switched off): the reminder itself
PER_ITEM = {"POLICY_FILE": str(Path(__file__).parents[1] / "fixtures" / "per_item_policy.yaml")}
DIGEST_MONDAY = "2025-12-22T09:00:00+08:00"  # the weekly digest's slot
DIGEST_TITLE = "督办周报"
PART = re.compile(r"\((\d+)/(\d+)\)\s*$")


class Roster:
    """The bot's database, opened beside the running bot (WAL: a second writer waits)."""

    def __init__(self, world: World) -> None:
        self.engine = make_engine(world.env["DATABASE_URL"])
        self.db = make_session_maker(self.engine)

    async def add_plan_leaders(self, plan_code: str, telegram_ids: list[int]) -> None:
        at = datetime(2025, 12, 1, tzinfo=UTC)
        async with self.db() as session:
            plan = (await session.exec(select(Plan).where(Plan.code == plan_code))).one()
            people = [
                Person(telegram_id=tid, name=f"领导{i:03d}", locale="zh_CN", created_at=at)
                for i, tid in enumerate(telegram_ids)
            ]
            session.add_all(people)
            await session.flush()
            session.add_all(
                Membership(person_id=p.id, role=ROLE_LEADER, plan_id=plan.id, created_at=at)
                for p in people
            )
            await session.commit()

    async def outbox(self, kind: str) -> list[Outbox]:
        async with self.db() as session:
            return list((await session.exec(select(Outbox).where(Outbox.kind == kind))).all())

    async def close(self) -> None:
        await self.engine.dispose()


def started_users(world: World, count: int, prefix: str) -> list[int]:
    """People who have opened a private chat with the bot (so it may write to them)."""
    ids = []
    for i in range(count):
        user = world.server.world.add_user(f"{prefix}{i:03d}", language_code="zh-hans")
        user.started = True
        ids.append(user.id)
    return ids


def bot_texts(world: World, chat_id: int) -> list[str]:
    return [m.text or "" for m in world.server.world.chat_messages(chat_id) if m.from_bot]


def photos_first(world: World, chats: list[int]) -> dict[int, str]:
    """The chats whose bot messages are not exactly one picture (with the digest's headline
    as its caption) followed by texts only: chat → what they got instead."""
    wrong: dict[int, str] = {}
    for chat in chats:
        got = [m for m in world.server.world.chat_messages(chat) if m.from_bot]
        kinds = ["photo" if m.photo else "text" for m in got]
        caption = got[0].caption or "" if got else ""
        if kinds[:1] != ["photo"] or "photo" in kinds[1:] or "逾期" not in caption:
            wrong[chat] = f"{kinds} {caption[:40]!r}"
    return wrong


def uploads(world: World, chats: list[int]) -> int:
    """Pictures uploaded to these chats (not sent again by file_id) that Telegram accepted."""
    to = {str(chat) for chat in chats}
    return sum(
        1
        for c in world.server.calls.calls("sendPhoto")
        if c.status == 200
        and c.params.get("chat_id") in to
        and str(c.params.get("photo", "")).startswith("attach://")
    )


def has_whole_digest(texts: list[str]) -> bool:
    """A one-message digest, or every part "(i/n)" of a long one."""
    if not texts:
        return False
    numbered = [PART.search(t) for t in texts]
    if any(m is None and DIGEST_TITLE in t for m, t in zip(numbered, texts, strict=True)):
        return True
    found = {(int(m.group(1)), int(m.group(2))) for m in numbered if m}
    totals = {n for _, n in found}
    return any({i for i, n in found if n == total} >= set(range(1, total + 1)) for total in totals)


async def all_digests_arrived(world: World, leaders: list[int], timeout: float) -> bool:
    return bool(
        await world.server.world.wait_until(
            lambda: all(has_whole_digest(bot_texts(world, chat)) for chat in leaders), timeout
        )
    )


async def rows_all_sent(roster: Roster, leaders: list[int], timeout: float) -> list | None:
    """The leaders' digest rows once every one is recorded `sent` (None after `timeout` s)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    chats = set(leaders)
    while True:
        rows = [r for r in await roster.outbox("digest") if r.chat_id in chats]
        if len(rows) == len(chats) and all(r.status == "sent" for r in rows):
            return rows
        if loop.time() > deadline:
            return None
        await asyncio.sleep(0.5)  # polling the database, not waiting for the bot's clock


async def diagnose(world: World, roster: Roster, leaders: list[int]) -> str:
    """Why some leaders lack their digest: their messages, their rows, the bot's log."""
    missing = [c for c in leaders if not has_whole_digest(bot_texts(world, c))]
    rows = {r.chat_id: r for r in await roster.outbox("digest")}
    lines = [f"{len(missing)} of {len(leaders)} leaders lack their digest"]
    for chat in missing[:5]:
        row = rows.get(chat)
        state = (row.status, row.parts_sent, row.attempts, row.last_error) if row else None
        lines.append(f"{chat}: texts={[t[-20:] for t in bot_texts(world, chat)]} row={state}")
    return "\n".join([*lines, world.log()[-4000:]])


# --- the reminder --------------------------------------------------------------------------


async def test_a_liaison_gets_the_reminder_and_reports_on_it(make_world) -> None:
    world: World = await make_world(clock_start=REMINDER_MORNING, env=PER_ITEM)
    liaison = await world.liaison(UNIT, "张三")

    reminder = await liaison.next_message(match="⏰", timeout=90)
    ref = re.search(r"SR-\w+", text_of(reminder)).group(0)
    assert "2025年12月31日" in text_of(reminder) and "7" in text_of(reminder)

    answer = await liaison.press(reminder, "进行中")
    assert answer.answer is not None
    ack = await liaison.wait_for(
        lambda m: "已报送" in text_of(m) and ref in text_of(m),
        after=reminder.message_id,
        timeout=60,
    )
    assert "进行中" in text_of(ack)

    roster = Roster(world)
    try:
        async with roster.db() as session:
            sent = (
                await session.exec(
                    select(SentMessage).where(
                        SentMessage.chat_id == liaison.id,
                        SentMessage.message_id == reminder.message_id,
                    )
                )
            ).one()
            events = (
                await session.exec(
                    select(StatusEvent).where(StatusEvent.assignment_id == sent.assignment_id)
                )
            ).all()
        assert sent.kind == "reminder"
        assert any(e.new_status == IN_PROGRESS for e in events)
    finally:
        await roster.close()
    seen = await world.coordinator.ask(f"/task {ref}", match=ref)
    assert "进行中" in text_of(seen)


# --- the digest through a crash ------------------------------------------------------------


async def test_a_digest_cut_by_sigkill_resumes_without_repeats(make_world) -> None:
    # the killed process's claim on the row in flight expires after SENDER_LEASE_SECONDS of
    # real time; then the restarted one recovers the row (a shorter lease: a shorter test)
    world: World = await make_world(clock_start=DIGEST_MONDAY, env={"SENDER_LEASE_SECONDS": "10"})
    leaders = started_users(world, 200, "领导")
    in_flight = leaders[120]
    hang = world.server.faults.add("sendMessage", "hang", chat_id=in_flight, hang_seconds=120)
    roster = Roster(world)
    try:
        await roster.add_plan_leaders("SR", leaders)

        # the sender reaches the hung message: everything before it is recorded, it is in flight
        hung = await world.server.world.wait_until(lambda: world.server.faults.hanging, 90)
        assert hung, world.log()[-3000:]
        # whole digests (every chat may already have its picture: photos go first)
        before = sum(1 for chat in leaders if has_whole_digest(bot_texts(world, chat)))
        await world.kill()
        world.server.faults.release(hang.id)  # Telegram accepted it after all: the duplicate
        await world.server.world.wait_until(lambda: bot_texts(world, in_flight), 10)
        assert before < 200  # killed in the middle: the hung leader has no whole digest yet

        await world.start()
        arrived = await all_digests_arrived(world, leaders, 120)
        assert arrived, await diagnose(world, roster, leaders)
        # the row in flight stays `sending` under the dead process's claim until its lease has
        # passed; then the restarted process takes it again (at the start, when it becomes the
        # sender, or in a later drain) and sends what was not recorded. Its last part may have
        # been the one in flight, so every text can be there before that: wait for the rows.
        rows = await rows_all_sent(roster, leaders, 120)
        assert rows, await diagnose(world, roster, leaders)

        repeats = {
            chat: sum(n - 1 for n in Counter(bot_texts(world, chat)).values()) for chat in leaders
        }
        assert {chat: n for chat, n in repeats.items() if n} in ({}, {in_flight: 1})
        # the picture first, once to everybody (the text was in flight, not the photo)
        assert photos_first(world, leaders) == {}
        to_leaders = {str(chat) for chat in leaders}
        sent = [
            c
            for c in world.server.calls.calls("sendPhoto")
            if c.status == 200 and c.params.get("chat_id") in to_leaders
        ]
        assert len(sent) == 200
        assert 1 <= uploads(world, leaders) <= 2  # drawn and uploaded once by each process
    finally:
        await roster.close()


async def test_429s_and_500s_still_deliver_every_digest_once(make_world) -> None:
    world: World = await make_world(clock_start=DIGEST_MONDAY)
    world.server.limiter.enabled = True  # Telegram's flood limits, enforced
    leaders = started_users(world, 60, "领导")
    # sporadic faults, as Telegram gives them: every fourth leader answers 429 once, every
    # fourth (another one) 500 once (repeated 500s for one message: tests/schedules)
    faults = [
        world.server.faults.add("sendMessage", "retry_after", chat_id=chat, retry_after=2)
        for chat in leaders[0::4]
    ] + [
        world.server.faults.add("sendMessage", "server_error", chat_id=chat)
        for chat in leaders[2::4]
    ]
    roster = Roster(world)
    try:
        await roster.add_plan_leaders("SR", leaders)
        arrived = await all_digests_arrived(world, leaders, 120)
        assert arrived, await diagnose(world, roster, leaders)

        for chat in leaders:
            counts = Counter(bot_texts(world, chat))
            assert all(n == 1 for n in counts.values()), (chat, counts)
        assert photos_first(world, leaders) == {}
        assert uploads(world, leaders) == 1  # the leaders' one picture
        assert all(f.count == 0 for f in faults)  # every fault was met
        statuses = Counter(c.status for c in world.server.calls.calls("sendMessage"))
        assert statuses[429] == 15  # only the injected ones: the bot kept to the limits
        assert statuses[500] == 15
    finally:
        await roster.close()
