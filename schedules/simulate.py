"""`python -m bot simulate --from DATE --to DATE [--plan CODE] [--csv OUT] [--policy FILE]`

What the reminder policy would send, week by week, before switching it on. A temporary
database gets the reviewed plans of `--tasks-data` (the real loader, as if loaded at the
start), a synthetic roster so that every audience resolves (one liaison and one leader per
unit, one coordinator of every plan, one subscribed group), and then the REAL planning pass
(`bot.services.planning.plan_due`) runs on a virtual clock at every sending-window opening from
`--from` to `--to`, everything planned being marked delivered at once. Nobody answers, so
the figures show the worst case: every item is chased until the end.

Output: one line per ISO week with the messages per kind and audience, and a total; `--csv`
writes week,kind,audience,count rows. With the default policy leaders and coordinators get
one 督办 summary (督办汇总) per day and plan instead of one message per escalated item: the
line shows the summaries and, in brackets, how many escalated items they listed (the CSV
kind `escalation_batch_items`); liaisons' per-item escalations are counted as before. A
liaison whom one pass would send more than `overdue.liaison_batch_over` overdue notices and
督办 gets one 逾期事项清单 per plan instead: "overdue lists", with the items they listed in
brackets (CSV kinds `overdue_batch` and `overdue_batch_items`). With the default policy a
liaison gets the day's stages as one brief (今日待办, `brief.audiences`): "briefs", with the
stages they carried in brackets (CSV kind `brief_stages`); the stage rows they carry are not
messages and are not counted again.

Then two checks of the whole run:

- "most messages to one recipient in a day": per audience, the most messages any one
  recipient got on any one day (every row sent counts as one message; a brief is made to fit
  one Telegram message), with who and when;
- "ladder stages": how many stages of the ladders were planned (one per item, stage and kind,
  whoever it went to: its per-recipient rows and batch markers) and how many were notified
  (at least one of its rows sent, on its own or carried by a brief, or a marker whose summary
  or list was sent). Equal means nothing was dropped, only bundled.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text, update

from bot.clock import VirtualClock
from bot.core.errors import InvalidInput
from bot.core.notices import OutboxKind
from bot.core.policy import Policy, PolicyError, load_policy
from bot.core.workdays import window_opening
from bot.services.planning import plan_due
from bot.storage.db import create_all, make_engine, make_session_maker
from bot.storage.models import (
    ROLE_COORDINATOR,
    ROLE_LEADER,
    ROLE_LIAISON,
    ChatSubscription,
    Membership,
    Outbox,
    Person,
)

REMINDER, ACK_CHASE, OVERDUE = OutboxKind.REMINDER, OutboxKind.ACK_CHASE, OutboxKind.OVERDUE
ESCALATION, ESCALATION_BATCH = OutboxKind.ESCALATION, OutboxKind.ESCALATION_BATCH
OVERDUE_BATCH, PERIODIC, DIGEST = OutboxKind.OVERDUE_BATCH, OutboxKind.PERIODIC, OutboxKind.DIGEST
BRIEF = OutboxKind.BRIEF
# the kinds whose rows are stages of a ladder (planned == notified is counted over them)
LADDER_KINDS = frozenset({REMINDER, ACK_CHASE, OVERDUE, ESCALATION, PERIODIC})

KINDS = (
    REMINDER,
    ACK_CHASE,
    OVERDUE,
    OVERDUE_BATCH,
    ESCALATION,
    ESCALATION_BATCH,
    PERIODIC,
    BRIEF,
    DIGEST,
)
LABELS = {
    REMINDER: "reminders",
    ACK_CHASE: "ack chases",
    OVERDUE: "overdue notices",
    ESCALATION: "escalations",
    ESCALATION_BATCH: "督办 summaries",
    OVERDUE_BATCH: "overdue lists",
    PERIODIC: "report requests",
    BRIEF: "briefs",
    DIGEST: "digests",
}
# counted beside the summaries and lists: how many items they listed (CSV kinds of their own)
BATCH_ITEMS = "escalation_batch_items"
LIST_ITEMS = "overdue_batch_items"
BRIEF_STAGES = "brief_stages"
ITEMS_OF = {ESCALATION_BATCH: BATCH_ITEMS, OVERDUE_BATCH: LIST_ITEMS, BRIEF: BRIEF_STAGES}
GROUP_CHAT = -1_000_000_000_001


@dataclass
class Peak:
    """The most messages one recipient of an audience got in a day."""

    messages: int = 0
    chat: int = 0
    day: date | None = None


@dataclass
class Simulation:
    """What a run sent: per ISO week the messages by (kind, audience); per audience the
    busiest recipient-day; the ladder stages planned and notified."""

    weeks: dict[str, Counter[tuple[str, str]]]
    peaks: dict[str, Peak] = field(default_factory=dict)
    planned: int = 0
    notified: int = 0
    # recipient → local day → messages (for tests and the CSV)
    per_day: dict[int, Counter[date]] = field(default_factory=dict)
    audiences_of: dict[int, set[str]] = field(default_factory=dict)


class SimulateError(InvalidInput):
    """Bad input; the message is one line for the user."""


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise SimulateError(f"{name}: expected a date like 2025-10-01, got {value!r}") from exc


def run_simulate(args: argparse.Namespace) -> int:
    """The CLI entry: 0 on success, 2 on bad input (one line on stderr)."""
    try:
        start = _day(args.date_from, "--from")
        end = _day(args.date_to, "--to")
        if end < start:
            raise SimulateError("--to is before --from")
        policy = load_policy(args.policy) if getattr(args, "policy", None) else load_policy()
        sim = asyncio.run(
            simulate(
                start,
                end,
                policy=policy,
                tasks_data=Path(args.tasks_data),
                plan_code=getattr(args, "plan", None),
            )
        )
    except (SimulateError, PolicyError) as exc:
        print(f"simulate: {exc}", file=sys.stderr)
        return 2
    for line in [*format_weeks(sim.weeks), *format_checks(sim)]:
        print(line)
    if getattr(args, "csv", None):
        write_csv(Path(args.csv), sim.weeks)
        print(f"wrote {args.csv}")
    return 0


async def simulate(
    start: date,
    end: date,
    *,
    policy: Policy,
    tasks_data: Path,
    plan_code: str | None = None,
    tasks: Any = None,
) -> Simulation:
    """What the policy sends over `start`..`end` (local dates): see `Simulation`. `tasks`:
    plans already read (a test's generated ledger) instead of `tasks_data`'s."""
    if tasks is not None:
        plans, directory = tasks
    else:
        plans, directory = _read_plans(tasks_data, plan_code)
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite+aiosqlite:///{Path(folder) / 'simulate.sqlite3'}")
        try:
            await create_all(engine)
            session_maker = make_session_maker(engine)
            loaded_at = window_opening(start, policy.window)
            from bot.storage.loader import load_plans

            await load_plans(session_maker, plans, directory, at=loaded_at)
            await _bootstrap_roster(session_maker, loaded_at)
            clock = VirtualClock(loaded_at, rate=0)
            day = start
            while day <= end:
                if policy.window.is_open_on(day):
                    clock.set(max(clock.now(), window_opening(day, policy.window)))
                    # the full recomputation: the reference the incremental tick is held to
                    await plan_due(session_maker, clock.now(), policy, full=True)
                    await _deliver_all(session_maker, clock.now())
                day += timedelta(days=1)
            return await _results(session_maker, policy)
        finally:
            await engine.dispose()


def _read_plans(tasks_data: Path, plan_code: str | None) -> tuple[list[Any], Any]:
    from bot.core.units import load_unit_directory
    from bot.storage.cli import InputError, read_plans

    if not tasks_data.exists():
        raise SimulateError(f"--tasks-data {tasks_data}: no such directory")
    try:
        plans = read_plans([tasks_data])
    except InputError as exc:
        raise SimulateError(str(exc)) from exc
    if plan_code:
        plans = [p for p in plans if p.info.code.upper() == plan_code.upper()]
        if not plans:
            raise SimulateError(f"--plan {plan_code}: no such plan in {tasks_data}")
    units_file = tasks_data / "units.yaml"
    return plans, load_unit_directory(units_file if units_file.exists() else None)


async def _bootstrap_roster(session_maker: Any, at: datetime) -> None:
    """A liaison and a leader for every unit with assignments, one coordinator of every plan,
    one subscribed group: every audience resolves to somebody."""
    async with session_maker() as session, session.begin():
        conn = await session.connection()
        unit_ids = [
            row[0]
            for row in (
                await conn.execute(
                    text("SELECT DISTINCT unit_id FROM assignment WHERE archived_at IS NULL")
                )
            ).all()
        ]
        people: list[dict[str, Any]] = []
        members: list[dict[str, Any]] = []
        person_id = 0

        def add(role: str, unit_id: int | None) -> None:
            nonlocal person_id
            person_id += 1
            people.append(
                {
                    "id": person_id,
                    "telegram_id": 5_000_000 + person_id,
                    "name": f"{role} {unit_id or ''}".strip(),
                    "username": "",
                    "active": True,
                    "created_at": at,
                }
            )
            members.append(
                {"person_id": person_id, "role": role, "unit_id": unit_id, "created_at": at}
            )

        add(ROLE_COORDINATOR, None)
        for unit_id in unit_ids:
            add(ROLE_LIAISON, unit_id)
            add(ROLE_LEADER, unit_id)
        await conn.execute(insert(Person.__table__), people)  # type: ignore[attr-defined]
        await conn.execute(insert(Membership.__table__), members)  # type: ignore[attr-defined]
        await conn.execute(
            insert(ChatSubscription.__table__),  # type: ignore[attr-defined]
            [{"chat_id": GROUP_CHAT, "title": "group", "created_at": at, "active": True}],
        )


async def _deliver_all(session_maker: Any, at: datetime) -> None:
    """Everything due is delivered; the rows a brief carries are sent with it (as the
    sender's record does)."""
    table = Outbox.__table__  # type: ignore[attr-defined]
    async with session_maker() as session, session.begin():
        conn = await session.connection()
        await conn.execute(
            update(table)
            .where(table.c.status == "pending", table.c.not_before <= at)
            .values(status="sent", sent_at=at)
        )
        sent_briefs = (
            select(table.c.key).where(table.c.kind == BRIEF, table.c.status == "sent")
        ).scalar_subquery()
        await conn.execute(
            update(table)
            .where(table.c.status == "briefed", table.c.via.in_(sent_briefs))
            .values(status="sent", sent_at=at)
        )


async def _results(session_maker: Any, policy: Policy) -> Simulation:
    weeks: dict[str, Counter] = {}
    per_day: dict[int, Counter[date]] = defaultdict(Counter)
    audiences_of: dict[int, set[str]] = defaultdict(set)
    async with session_maker() as session:
        conn = await session.connection()
        rows = (
            await conn.execute(
                text(
                    "SELECT kind, json_extract(payload, '$.audience'), sent_at, "
                    "coalesce(json_extract(payload, '$.total'), "
                    "json_extract(payload, '$.stages')), chat_id "
                    "FROM outbox WHERE status = 'sent' AND via IS NULL"
                )
            )
        ).all()
        stages = (
            await conn.execute(
                text(
                    "SELECT key, kind, status, chat_id, payload FROM outbox "
                    "WHERE kind IN ('reminder', 'ack_chase', 'overdue', 'escalation', 'periodic')"
                )
            )
        ).all()
        sent_keys = {
            key
            for (key,) in (
                await conn.execute(text("SELECT key FROM outbox WHERE status = 'sent'"))
            )
        }
    for kind, audience, sent_at, total, chat_id in rows:
        when = datetime.fromisoformat(str(sent_at)).replace(tzinfo=UTC)
        local = when.astimezone(policy.zone)
        iso = local.isocalendar()
        week = f"{iso.year}-W{iso.week:02d}"
        counts = weeks.setdefault(week, Counter())
        counts[(kind, audience or "")] += 1
        if kind in ITEMS_OF:
            counts[(ITEMS_OF[kind], audience or "")] += int(total or 0)
        per_day[int(chat_id)][local.date()] += 1
        audiences_of[int(chat_id)].add(audience or "")
    planned: set[str] = set()
    notified: set[str] = set()
    for key, _kind, status, chat_id, payload in stages:
        stage = str(key).rpartition("|")[0]
        planned.add(stage)
        if status == "sent":
            notified.add(stage)
        elif status == "batched" and int(chat_id) == 0:  # a marker: notified by its batches
            batches = json.loads(payload).get("batches") or [] if isinstance(payload, str) else []
            if any(b in sent_keys for b in batches):
                notified.add(stage)
    peaks: dict[str, Peak] = {}
    for chat, days in per_day.items():
        busiest, n = max(days.items(), key=lambda kv: (kv[1], kv[0]))
        for audience in audiences_of[chat]:
            peak = peaks.setdefault(audience, Peak())
            if n > peak.messages:
                peaks[audience] = Peak(n, chat, busiest)
    return Simulation(
        weeks=dict(sorted(weeks.items())),
        peaks=dict(sorted(peaks.items())),
        planned=len(planned),
        notified=len(notified),
        per_day=dict(per_day),
        audiences_of=dict(audiences_of),
    )


def format_checks(sim: Simulation) -> list[str]:
    """The busiest recipient-day per audience, and ladder stages planned vs notified."""
    peaks = ", ".join(
        f"{aud} {p.messages} ({p.day.isoformat() if p.day else ''})"
        for aud, p in sim.peaks.items()
    )
    lines = [f"most messages to one recipient in a day: {peaks or '—'}"]
    verdict = "nothing dropped" if sim.planned == sim.notified else "SOME NOT NOTIFIED"
    lines.append(f"ladder stages: planned {sim.planned}, notified {sim.notified} ({verdict})")
    return lines


def format_weeks(weeks: dict[str, Counter]) -> list[str]:
    """One line per week: per kind its total and the split by audience."""
    lines: list[str] = []
    total: Counter = Counter()
    for week, counts in weeks.items():
        total.update(counts)
        lines.append(f"{week}  {_describe(counts)}")
    if not weeks:
        lines.append("nothing would be sent")
    lines.append(f"total     {_describe(total)}")
    return lines


def _describe(counts: Counter) -> str:
    parts = []
    for kind in KINDS:
        by_audience = {aud: n for (k, aud), n in counts.items() if k == kind}
        if not by_audience:
            continue
        split = ", ".join(f"{aud} {n}" for aud, n in sorted(by_audience.items()))
        if kind in ITEMS_OF:
            items = sum(n for (k, _), n in counts.items() if k == ITEMS_OF[kind])
            split += f"; {items} {'stages' if kind == BRIEF else 'items'}"
        parts.append(f"{LABELS[kind]} {sum(by_audience.values())} ({split})")
    return " · ".join(parts) if parts else "—"


def write_csv(path: Path, weeks: dict[str, Counter]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["week", "kind", "audience", "count"])
        for week, counts in weeks.items():
            for (kind, audience), n in sorted(counts.items()):
                writer.writerow([week, kind, audience, n])
