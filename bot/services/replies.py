"""Replies understood: what a liaison's free text reports (bot.core.replies) is recorded
through the same `report` service as /report and the buttons, asked back when ambiguous, and
undone on request.

Plain async functions taking a session; the caller commits. The whole text is the note of
every event written. A pending question and what was recorded live in `reply_reading`, so that
any instance can take the answer or the undo. 撤销 appends a compensating `undo` event (history
is append-only) and restores the assignment as it was, unless something newer happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import desc, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.lights import LightPolicy
from bot.core.replies import Candidate, Reading, Status
from bot.core.roles import Roles
from bot.core.status import Action, TransitionError
from bot.services.assignments import ReportOutcome, assignment_for_task, assignment_row, report
from bot.services.errors import ServiceError
from bot.storage.models import Assignment, Person, Plan, ReplyReading, StatusEvent

NOTE_ONLY = -1  # the answer "只记为备注"

ACTION_OF = {
    Status.DONE: Action.DONE,
    Status.DOING: Action.PROGRESS,
    Status.BLOCKED: Action.BLOCKED,
    Status.EXTEND: Action.EXTEND,
    Status.ACK: Action.ACK,
}


async def plan_codes(session: AsyncSession) -> list[str]:
    """The codes of active plans: the refs a reply may name."""
    result = await session.exec(select(Plan.code).where(col(Plan.archived_at).is_(None)))
    return list(result.all())


@dataclass
class Target:
    """A reading and the assignment it is about (or why it has none)."""

    reading: Reading
    assignment_id: int | None
    ref: str
    error: ServiceError | None = None
    choice: int | None = None  # index into the candidates, NOTE_ONLY; None: not chosen yet

    @property
    def settled(self) -> bool:
        return self.error is not None or not self.reading.ambiguous or self.choice is not None

    @property
    def chosen(self) -> Candidate | None:
        if self.error is not None or self.choice == NOTE_ONLY:
            return None
        return self.reading.candidates[self.choice or 0]


async def resolve_targets(
    session: AsyncSession,
    readings: list[Reading],
    *,
    subject_assignment_id: int | None,
    roles: Roles,
    today: date,
    now: datetime,
    policy: LightPolicy,
) -> list[Target]:
    """Each reading with the viewer's assignment: `ref` None is the replied-to item; a ref is
    the viewer's current assignment on that task. Unknown refs and other units' items carry
    their error (unknown_ref, not_your_task); a second reading of one assignment is dropped."""
    targets: list[Target] = []
    seen: set[int] = set()
    for reading in readings:
        try:
            if reading.ref is None:
                if subject_assignment_id is None:
                    continue
                row = await assignment_row(
                    session, subject_assignment_id, today=today, now=now, policy=policy
                )
            else:
                row = await assignment_for_task(
                    session, ref=reading.ref, roles=roles, today=today, now=now, policy=policy
                )
        except ServiceError as exc:
            targets.append(Target(reading, None, reading.ref or "", error=exc))
            continue
        if row.assignment_id in seen:
            continue
        seen.add(row.assignment_id)
        targets.append(Target(reading, row.assignment_id, row.ref))
    return targets


# --- the pending question ----------------------------------------------------------------------


def _dump(targets: list[Target]) -> list[dict[str, Any]]:
    return [
        {
            "ref": t.ref,
            "assignment_id": t.assignment_id,
            "error": [t.error.code, {k: str(v) for k, v in t.error.params.items()}]
            if t.error
            else None,
            "candidates": [
                {
                    "status": str(c.status),
                    "percent": c.percent,
                    "date": c.date.isoformat() if c.date else None,
                }
                for c in t.reading.candidates
            ],
            "ambiguous": t.reading.ambiguous,
            "choice": t.choice,
        }
        for t in targets
    ]


def load_targets(record: ReplyReading) -> list[Target]:
    out = []
    for d in record.readings:
        candidates = tuple(
            Candidate(
                Status(c["status"]),
                c["percent"],
                date.fromisoformat(c["date"]) if c["date"] else None,
            )
            for c in d["candidates"]
        )
        error = ServiceError(d["error"][0], **d["error"][1]) if d.get("error") else None
        reading = Reading(d["ref"] or None, candidates, d["ambiguous"])
        out.append(Target(reading, d["assignment_id"], d["ref"], error, d["choice"]))
    return out


async def keep(
    session: AsyncSession,
    *,
    person: Person,
    chat_id: int,
    text: str,
    targets: list[Target],
    at: datetime,
    evidence: dict[str, Any] | None = None,
) -> ReplyReading:
    """Keep the reply and its readings: until the liaison answers the question when one is
    still open (state `asking`), else for `record_targets` (state `recording`)."""
    state = "asking" if next_question(targets) is not None else "recording"
    record = ReplyReading(
        person_id=person.id or 0,
        chat_id=chat_id,
        text=text,
        readings=_dump(targets),
        state=state,
        created_at=at,
        evidence=evidence,
    )
    session.add(record)
    await session.flush()
    return record


def next_question(targets: list[Target]) -> Target | None:
    """The first reading still waiting for the liaison's choice."""
    return next((t for t in targets if not t.settled), None)


async def _claim(session: AsyncSession, record: ReplyReading, *, was: str, now: str) -> bool:
    """Move `record` from state `was` to `now` in one conditional UPDATE: of two presses at
    once (a double tap, two instances) exactly one wins."""
    result = await session.exec(
        update(ReplyReading)
        .where(col(ReplyReading.id) == record.id, col(ReplyReading.state) == was)
        .values(state=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    record.state = now
    return True


async def answer(
    session: AsyncSession, *, record_id: int, person: Person, choice: int
) -> tuple[ReplyReading, list[Target]]:
    """Take the liaison's choice for the question asked. When it was the last question, the
    record is claimed for recording (state `recording`: `record_targets` finishes it). Codes:
    reply_gone (unknown, someone else's, or already answered), bad_choice."""
    record = await session.get(ReplyReading, record_id)
    if record is None or record.person_id != person.id or record.state != "asking":
        raise ServiceError("reply_gone")
    targets = load_targets(record)
    target = next_question(targets)
    if target is None:
        raise ServiceError("reply_gone")
    if choice != NOTE_ONLY and not 0 <= choice < len(target.reading.candidates):
        raise ServiceError("bad_choice")
    target.choice = choice
    if next_question(targets) is None and not await _claim(
        session, record, was="asking", now="recording"
    ):
        raise ServiceError("reply_gone")
    record.readings = _dump(targets)
    session.add(record)
    return record, targets


# --- recording -----------------------------------------------------------------------------------


@dataclass
class Recorded:
    outcomes: list[ReportOutcome]
    errors: list[ServiceError | TransitionError]
    needs_date: list[int]  # assignments whose extension came without a date: ask for it
    undoable: bool


def _before(a: Assignment) -> dict[str, Any]:
    return {
        "status": a.status,
        "progress": a.progress,
        "extension_requested_to": a.extension_requested_to.isoformat()
        if a.extension_requested_to
        else None,
        "acknowledged_at": a.acknowledged_at.isoformat() if a.acknowledged_at else None,
        "done_reported_at": a.done_reported_at.isoformat() if a.done_reported_at else None,
        "last_report_at": a.last_report_at.isoformat() if a.last_report_at else None,
    }


async def record_targets(
    session: AsyncSession,
    record: ReplyReading,
    targets: list[Target],
    *,
    person: Person,
    roles: Roles,
    at: datetime,
    today: date,
    policy: LightPolicy,
) -> Recorded:
    """Record every settled reading of `record` (the text is each event's note). A reading the
    rules refuse (an extension date in the past, an item waiting for 办结…) is kept as a note
    and its error returned."""
    outcomes: list[ReportOutcome] = []
    errors: list[ServiceError | TransitionError] = list(t.error for t in targets if t.error)
    needs_date: list[int] = []
    entries: list[dict[str, Any]] = []
    # a photo or file goes with the replied-to item, or the first one named
    evidence_for = next(
        (t.assignment_id for t in targets if t.reading.ref is None and t.assignment_id),
        next((t.assignment_id for t in targets if t.assignment_id), None),
    )
    for t in targets:
        if t.assignment_id is None:
            continue
        evidence = (record.evidence or {}) if t.assignment_id == evidence_for else {}
        assignment = await session.get(Assignment, t.assignment_id)
        if assignment is None:
            continue
        before = _before(assignment)
        chosen = t.chosen
        kw: dict[str, Any] = {"note": record.text}
        action = Action.NOTE
        if chosen is not None and chosen.status is Status.ACK and assignment.acknowledged_at:
            pass  # "收到" on an item signed for already: just the note
        elif chosen is not None and not (chosen.status is Status.EXTEND and chosen.date is None):
            action = ACTION_OF[chosen.status]
            if chosen.status is Status.DOING:
                kw["progress"] = chosen.percent
            if chosen.status is Status.EXTEND:
                kw["new_due"] = chosen.date
        elif chosen is not None:
            needs_date.append(t.assignment_id)
        common = {
            "assignment_id": t.assignment_id,
            "person": person,
            "roles": roles,
            "at": at,
            "today": today,
            "policy": policy,
            **evidence,
        }
        try:
            outcome = await report(session, action=action, **common, **kw)
        except (ServiceError, TransitionError) as exc:
            if exc.code in ("not_your_unit", "unknown_assignment") or action is Action.NOTE:
                errors.append(exc)
                continue
            errors.append(exc)  # the rules refuse the status: the text still is a note
            outcome = await report(session, action=Action.NOTE, **common, note=record.text)
        outcomes.append(outcome)
        if outcome.transition.action is not Action.NOTE:
            entries.append(
                {"assignment_id": t.assignment_id, "event_id": outcome.event.id, "before": before}
            )
    record.entries = entries
    record.state = "recorded"
    record.resolved_at = at
    session.add(record)
    return Recorded(outcomes, errors, needs_date, undoable=bool(entries))


# --- undo ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Undone:
    ref: str
    restored: bool  # False: something newer happened, the assignment was left as it is


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def undo(
    session: AsyncSession,
    *,
    record_id: int,
    person: Person,
    at: datetime,
    today: date,
    policy: LightPolicy,
) -> list[Undone]:
    """Undo what a reply recorded: for each assignment whose latest event is still the one the
    reply wrote, append an `undo` event and restore status, progress, extension request and
    签收 as they were. Codes: undo_gone (unknown, someone else's, or already undone)."""
    record = await session.get(ReplyReading, record_id)
    if record is None or record.person_id != person.id or record.state != "recorded":
        raise ServiceError("undo_gone")
    if not await _claim(session, record, was="recorded", now="undone"):
        raise ServiceError("undo_gone")
    out: list[Undone] = []
    for entry in record.entries:
        assignment = await session.get(Assignment, entry["assignment_id"])
        row = await assignment_row(
            session, entry["assignment_id"], today=today, now=at, policy=policy
        )
        latest = await latest_event_id(session, entry["assignment_id"])
        if assignment is None or latest != entry["event_id"]:
            out.append(Undone(row.ref, restored=False))
            continue
        before = entry["before"]
        old_status = assignment.status
        assignment.status = before["status"]
        assignment.progress = before["progress"]
        ext = before["extension_requested_to"]
        assignment.extension_requested_to = date.fromisoformat(ext) if ext else None
        assignment.acknowledged_at = _dt(before["acknowledged_at"])
        assignment.done_reported_at = _dt(before["done_reported_at"])
        assignment.last_report_at = _dt(before["last_report_at"])
        session.add(assignment)
        session.add(
            StatusEvent(
                assignment_id=entry["assignment_id"],
                at=at,
                actor_id=person.id,
                actor_label=person.name,
                kind="undo",
                old_status=old_status,
                new_status=assignment.status,
                progress=assignment.progress,
            )
        )
        out.append(Undone(row.ref, restored=True))
    session.add(record)
    return out


async def latest_event_id(session: AsyncSession, assignment_id: int) -> int | None:
    result = await session.exec(
        select(StatusEvent.id)
        .where(StatusEvent.assignment_id == assignment_id)
        .order_by(desc(col(StatusEvent.id)))
        .limit(1)
    )
    return result.first()
