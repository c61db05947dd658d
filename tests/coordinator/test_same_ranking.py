"""One ranking, every renderer: the scorecard picture's data, /status's units page and the
export's 排名 sheet list the same units in the same order, on a ledger with ties, a unit
answering in two plans and units with nothing due yet."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

from openpyxl import load_workbook

from bot.clock import VirtualClock
from bot.config import load_settings
from bot.core.policy import load_policy
from bot.core.status import CLOSED, IN_PROGRESS, NOT_STARTED
from bot.services import ranking
from bot.services.coordination import ScopeChoice
from bot.services.stats import Scope
from bot.telegram.charts import Pictures
from bot.telegram.charts.views import card_view
from bot.telegram.coordinator.export import ledger_document
from bot.telegram.coordinator.status import units_screen

from .ledger import AT, TODAY, ZONE, World, instant

DUE = TODAY - timedelta(days=30)  # fell due a month ago
LATER = TODAY + timedelta(days=90)
ASSIGNED = instant(TODAY - timedelta(days=60))
IN_TIME = ASSIGNED + timedelta(hours=2)  # acknowledged on the day
LATE_ACK = ASSIGNED + timedelta(days=20)
ON_TIME = instant(DUE - timedelta(days=3))


def ledger(tmp_path) -> World:
    """Units and what they did (on time / due, acknowledged in time / judged, overdue):
    甲 1/2, 2/2, 1 (its items in both plans) · 乙 1/2, 2/2, 1 (a tie with 甲) · 丙 2/2, 2/2, 0
    · 丁 1/2, 1/2, 1 (as 甲 on time, worse 签收) · 戊 and 己 nothing due yet."""
    w = World(tmp_path / "same.sqlite3")
    for pid in (1, 2):
        w.plans.append(
            dict(
                id=pid,
                code=f"P{pid}",
                title=f"计划{pid}",
                period_start=date(2025, 1, 1),
                period_end=date(2026, 12, 31),
                loaded_at=ASSIGNED,
            )
        )
    names = {1: "甲单位", 2: "乙单位", 3: "丙单位", 4: "丁单位", 5: "戊单位", 6: "己单位"}
    w.units += [dict(id=uid, name=name, short_name="") for uid, name in names.items()]
    ids = iter(range(1, 100))

    def item(unit: int, plan: int, *, due: date, status: str, ack=IN_TIME, done=None):
        n = next(ids)
        w.tasks.append(
            dict(
                id=n,
                plan_id=plan,
                ref=f"P{plan}-{n}",
                title=f"任务{n}",
                recurrence=[],
                position=n,
                section="",
            )
        )
        w.milestones.append(
            dict(id=n, task_id=n, seq=0, due=due, original_due=due, phrase="", target="")
        )
        w.assignments.append(
            dict(
                id=n,
                milestone_id=n,
                unit_id=unit,
                role="lead",
                status=status,
                progress=None,
                due=due,
                assigned_at=ASSIGNED,
                acknowledged_at=ack,
                last_report_at=None,
                done_reported_at=done,
                closed_at=done,
                archived_at=None,
            )
        )

    for unit, plans in ((1, (1, 2)), (2, (1, 1)), (4, (2, 2))):
        item(unit, plans[0], due=DUE, status=CLOSED, done=ON_TIME)
        item(unit, plans[1], due=DUE, status=IN_PROGRESS, ack=IN_TIME if unit != 4 else LATE_ACK)
    item(3, 1, due=DUE, status=CLOSED, done=ON_TIME)
    item(3, 2, due=DUE, status=CLOSED, done=ON_TIME)
    item(5, 1, due=LATER, status=NOT_STARTED)
    item(6, 2, due=LATER, status=IN_PROGRESS)
    return w


EXPECTED = [
    ("1", "丙单位"),
    ("2", "乙单位"),  # 乙 and 甲 tie: one rank, listed by name (code point order)
    ("2", "甲单位"),
    ("4", "丁单位"),
    ("—", "己单位"),  # nothing due yet: not ranked, by name
    ("—", "戊单位"),
]


async def test_picture_status_page_and_export_sheet_rank_alike(tmp_path):
    w = await ledger(tmp_path).write()
    settings = load_settings(env_file=None, bot_token="42:TEST")
    clock = VirtualClock(AT, rate=0)
    policy = load_policy(None, timezone=settings.clock.timezone)
    scope = Scope(plan_ids=None)
    try:
        async with w.session_maker() as session:
            result = await ranking.unit_ranking(session, scope=scope, at=AT, zone=ZONE)
            page, _ = await units_screen(
                session,
                ScopeChoice(scope, None),
                settings=settings,
                policy=policy,
                at=AT,
                locale="zh_CN",
            )
            data, _, _ = await ledger_document(
                session, scope=scope, settings=settings, policy=policy, clock=clock, locale="zh_CN"
            )
    finally:
        await w.engine.dispose()

    view = card_view(result, period="week", zone=ZONE, locale="zh_CN")
    picture = [(row.rank, row.name) for row in view.rows]
    drawn = Pictures().draw_scorecard(view)
    assert drawn is not None
    names = {name for _, name in EXPECTED}
    drawn_names = [t for t in drawn.texts if t in names]

    status = []
    for line in page.splitlines()[1:]:
        match = re.match(r"^(\d+|—)\. \S+ (\S+?):", line)
        if match:
            status.append((match.group(1), match.group(2)))

    sheet = load_workbook(io.BytesIO(data))["排名"]
    exported = [(str(r[0].value), r[1].value) for r in sheet.iter_rows(min_row=2)]

    assert picture == EXPECTED
    assert drawn_names == [name for _, name in EXPECTED]
    assert status == EXPECTED
    assert exported == EXPECTED
    # the export carries the rates too: 甲 answers in both plans, one line over both
    jia = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[1] == "甲单位")
    assert jia[3] == 0.5 and jia[4] == "1/2" and jia[7] == 1


SCORE_LINE = re.compile(r"^(\d+|—)\. (?:👉 )?(\S+?)[:：]")


def digest_ranking_lines(text: str) -> list[tuple[str, str]]:
    """(rank, unit) of the digest text's scorecard section (after the 🏅 heading)."""
    section = text.split("🏅", 1)[1]
    return [m.groups() for line in section.splitlines() if (m := SCORE_LINE.match(line))]


async def test_the_digest_text_and_its_picture_rank_like_the_export(tmp_path):
    """The weekly digest's text, the picture the sender draws for it and its caption come
    from the one ranking the export's 排名 sheet lists; a group subscribed to one plan gets
    that plan's ranking only."""
    from bot.core.digest_slot import digest_due
    from bot.core.notices import Audience
    from bot.services.digest import digest_rows
    from bot.storage.models import ROLE_COORDINATOR, ChatSubscription, Membership, Outbox, Person
    from bot.storage.outbox.delivery import as_rendered
    from bot.telegram.notices import picture_view, render

    w = await ledger(tmp_path).write()
    settings = load_settings(env_file=None, bot_token="42:TEST")
    clock = VirtualClock(AT, rate=0)
    policy = load_policy(None, timezone=settings.clock.timezone)
    try:
        async with w.session_maker() as session:
            person = Person(telegram_id=7001, name="协调员", locale="zh_CN", created_at=AT)
            session.add(person)
            await session.flush()
            session.add(Membership(person_id=person.id, role=ROLE_COORDINATOR, created_at=AT))
            session.add(ChatSubscription(chat_id=-1002, plan_id=2, created_at=AT))
            await session.commit()
        async with w.session_maker() as session:
            slot = digest_due(policy, AT)
            assert slot is not None
            # as the sender renders them: the names are the ledger's (lean payloads)
            rows = {
                r["chat_id"]: await as_rendered(session, Outbox(**r))
                for r in await digest_rows(session, slot, policy, AT)
            }
            data, _, _ = await ledger_document(
                session,
                scope=Scope(plan_ids=None),
                settings=settings,
                policy=policy,
                clock=clock,
                locale="zh_CN",
            )
            plan2 = await ranking.unit_ranking(
                session,
                scope=Scope(plan_id=2),
                at=AT,
                zone=ZONE,
                ack_window=policy.for_plan(None).ack_chase_after,
            )
    finally:
        await w.engine.dispose()

    sheet = load_workbook(io.BytesIO(data))["排名"]
    exported = [(str(r[0].value), r[1].value) for r in sheet.iter_rows(min_row=2)]
    coordinator = rows[7001]
    assert coordinator.payload["audience"] == Audience.COORDINATORS
    rendered = render(coordinator, locale="zh_CN", zone=ZONE)
    view = picture_view(coordinator, locale="zh_CN", zone=ZONE)
    assert view is not None
    assert exported == EXPECTED
    assert digest_ranking_lines(rendered.text) == EXPECTED
    assert [(row.rank, row.name) for row in view.rows] == EXPECTED
    # the caption is the text's headline: totals, this week's change, the most overdue units
    assert rendered.photo is not None
    headline = rendered.photo.splitlines()[1:]
    assert len(headline) == 3 and "本周" in headline[1] and "逾期最多" in headline[2]
    assert all(line in rendered.text for line in headline)
    assert rendered.text.index(headline[0]) < rendered.text.index("P1")

    group = rows[-1002]
    text = render(group, locale="zh_CN", zone=ZONE).text
    assert "<b>P2</b>" in text and "<b>P1</b>" not in text
    assert group.payload["ranking"]["plans"] == [["P2", "计划2"]]
    assert digest_ranking_lines(text) == [
        (str(row.rank) if row.rank else "—", row.name) for row in plan2.rows
    ]
