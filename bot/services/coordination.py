"""The coordinator's acts on the ledger: 办结 (confirm), 退回 (return), approve / deny an
extension, 催办 (chase now), and the scope a question is about.

Plain async functions taking a session; the caller commits. Transitions come from
bot.core.status and are written by bot.storage.history.record (append-only history). An
approved extension moves `Assignment.due`; `Milestone.original_due` never moves, so on-time
statistics keep the plan's date. Errors are ServiceError / TransitionError with a code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, desc, func, insert, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.history import ACTOR_COORDINATOR
from bot.core.notices import Audience, ItemNotice, OutboxKind, UnitRef
from bot.core.roles import Roles
from bot.core.status import (
    BLOCKED,
    CLOSED,
    DONE_REPORTED,
    IN_PROGRESS,
    OPEN_STATUSES,
    Action,
    Snapshot,
    apply,
    check_reason_length,
)
from bot.core.units import normalize_unit_text
from bot.services.errors import ServiceError
from bot.services.lookup import find_units, plan_by_code, task_by_ref
from bot.services.people import liaisons_of_units
from bot.services.scope import PlanScope
from bot.services.stats import Scope, unit_names
from bot.storage.history import assignment_changes, latest_decision, status_event
from bot.storage.models import (
    Assignment,
    Milestone,
    Outbox,
    Person,
    Plan,
    StatusEvent,
    Task,
    Unit,
)
from bot.storage.next_at import touch_decided
from bot.storage.typed_sql import select_rows, stored_id, table_of

CONFIRM = Action.CONFIRM
RETURN = Action.RETURN
APPROVE = Action.APPROVE
DENY = Action.DENY
REMIND = "remind"
ACTIONS: tuple[str, ...] = (CONFIRM, RETURN, APPROVE, DENY, REMIND)
NEEDS_REASON = frozenset({RETURN, DENY})  # /remind takes an optional note the same way


# --- scope -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScopeChoice:
    scope: Scope
    label: str | None  # None: every plan the coordinator sees
    plan_id: int | None = None
    unit_id: int | None = None


def allowed_plans(roles: Roles) -> frozenset[int] | None:
    return PlanScope(roles).plan_ids


async def resolve_scope(
    session: AsyncSession, directory: Any, roles: Roles, arg: str | None
) -> ScopeChoice:
    """`None` → every plan; a plan code → that plan; anything else → a unit through the alias
    directory, among the units the coordinator's plans involve. Codes: not_your_plan,
    unknown_unit, ambiguous_unit, unit_out_of_scope."""
    reach = PlanScope(roles)
    allowed = reach.plan_ids
    if not arg:
        return ScopeChoice(Scope(plan_ids=allowed), None)
    plan = await plan_by_code(session, arg)
    if plan is not None:
        reach.require_plan(plan)
        return ScopeChoice(Scope(plan_id=plan.id, plan_ids=allowed), plan.code, plan_id=plan.id)
    unit = await reach.resolve_unit(session, directory, arg)
    label = (await unit_names(session, [unit.id or 0])).get(unit.id or 0, unit.name)
    return ScopeChoice(Scope(unit_id=unit.id, plan_ids=allowed), label, unit_id=unit.id)


async def scope_from_ids(
    session: AsyncSession, roles: Roles, plan_id: int | None, unit_id: int | None
) -> ScopeChoice:
    """The scope of a button (ids on the wire), checked against the roles again."""
    reach = PlanScope(roles)
    allowed = reach.plan_ids
    if plan_id is not None:
        plan = await session.get(Plan, plan_id)
        if plan is None:
            raise ServiceError("unknown_plan", plan=str(plan_id))
        reach.require_plan(plan)
        return ScopeChoice(Scope(plan_id=plan.id, plan_ids=allowed), plan.code, plan_id=plan.id)
    if unit_id is not None:
        unit = await session.get(Unit, unit_id)
        if unit is None:
            raise ServiceError("unknown_unit", unit=str(unit_id))
        await reach.require_unit(session, unit)
        label = (await unit_names(session, [unit.id or 0])).get(unit.id or 0, unit.name)
        return ScopeChoice(Scope(unit_id=unit.id, plan_ids=allowed), label, unit_id=unit.id)
    return ScopeChoice(Scope(plan_ids=allowed), None)


# --- candidates of an act ------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One assignment of an item an act could apply to."""

    assignment_id: int
    task_id: int
    plan_id: int
    ref: str
    title: str
    unit_id: int
    unit_name: str
    role: str
    seq: int
    due: date
    original_due: date
    status: str
    extension_requested_to: date | None
    acknowledged: bool


def pending_for(action: str, c: Candidate) -> bool:
    """Whether the act applies: 办结/退回 need a reported completion, approve/deny a pending
    extension request, 催办 an open item."""
    if action in (CONFIRM, RETURN):
        return c.status == DONE_REPORTED
    if action in (APPROVE, DENY):
        return c.extension_requested_to is not None and c.status != CLOSED
    return c.status in OPEN_STATUSES


async def item_candidates(
    session: AsyncSession, task: Task, *, assignment_id: int | None = None
) -> list[Candidate]:
    """Every active assignment of the item, by milestone then lead first (with
    `assignment_id`: only that one, when it is active)."""
    query = (
        select(Assignment, Milestone, Unit)
        .join(Milestone, col(Milestone.id) == Assignment.milestone_id)
        .join(Unit, col(Unit.id) == Assignment.unit_id)
        .where(
            Milestone.task_id == task.id,
            col(Assignment.archived_at).is_(None),
            col(Milestone.archived_at).is_(None),
        )
        .order_by(col(Milestone.seq), col(Assignment.role) != "lead", col(Assignment.id))
    )
    if assignment_id is not None:
        query = query.where(col(Assignment.id) == assignment_id)
    result = await session.exec(query)
    out = []
    found = result.all()
    labels = await unit_names(session, {u.id for _, _, u in found if u.id})
    for a, m, u in found:
        out.append(
            Candidate(
                assignment_id=stored_id(a.id),
                task_id=stored_id(task.id),
                plan_id=task.plan_id,
                ref=task.ref,
                title=task.title,
                unit_id=stored_id(u.id),
                unit_name=labels.get(u.id or 0, u.short_name or u.name),
                role=a.role,
                seq=m.seq,
                due=a.due,
                original_due=m.original_due,
                status=a.status,
                extension_requested_to=a.extension_requested_to,
                acknowledged=a.acknowledged_at is not None,
            )
        )
    return out


def current_per_unit(candidates: list[Candidate]) -> list[Candidate]:
    """For 催办: each unit's earliest open milestone."""
    seen: dict[int, Candidate] = {}
    for c in candidates:
        if c.unit_id not in seen:
            seen[c.unit_id] = c
    return list(seen.values())


@dataclass(frozen=True)
class Targets:
    """What `/confirm REF [UNIT] …` points at: exactly one candidate, or several to choose
    from (buttons); `reason` is the rest of the command after the unit."""

    candidates: list[Candidate]
    reason: str
    ref: str
    unit_text: str | None = None


async def targets_for(
    session: AsyncSession,
    directory: Any,
    roles: Roles,
    *,
    action: str,
    ref: str,
    rest: tuple[str, ...],
    text: str | None = None,
) -> Targets:
    """The assignments of item `ref` the act applies to, narrowed by a unit when the first word
    after the ref names one of the item's units (through the alias directory).

    `text` is what followed the ref as typed (default: the words of `rest` joined); the
    reason is its remainder, unchanged, so that it reaches the liaison as written.

    Codes: unknown_ref, not_your_plan, unit_not_on_item, nothing_pending; TransitionError
    reason_too_long (before looking at what is pending)."""
    task = await task_by_ref(session, ref)
    if not roles.coordinates(task.plan_id):
        plan = await session.get(Plan, task.plan_id)
        raise ServiceError("not_your_plan", plan=plan.code if plan else "")
    everything = await item_candidates(session, task)
    unit_text: str | None = None
    reason = (" ".join(rest) if text is None else text).strip()
    if rest:
        unit_ids = await _unit_ids_named(session, directory, rest[0], everything)
        if unit_ids:
            unit_text = rest[0]
            after_unit = reason.split(maxsplit=1)
            reason = after_unit[1].strip() if len(after_unit) > 1 else ""
            everything = [c for c in everything if c.unit_id in unit_ids]
        elif action in (CONFIRM, APPROVE) or (len(rest) == 1 and _looks_like_unit(rest[0])):
            raise ServiceError("unit_not_on_item", ref=task.ref, unit=rest[0])
    check_reason_length(action, reason)
    pending = [c for c in everything if pending_for(action, c)]
    if action == REMIND:
        pending = current_per_unit(pending)
    if not pending:
        raise ServiceError(f"nothing_pending_{action}", ref=task.ref)
    return Targets(pending, reason, task.ref, unit_text)


def _looks_like_unit(word: str) -> bool:
    """A lone word after the ref of /return, /deny or /remind is the reason (or note) unless it
    ends like a unit name (局, 委, 办, 政府, 中心 …)."""
    return word.endswith(("局", "委", "办", "府", "会", "院", "中心", "公司", "所", "室", "处"))


async def _unit_ids_named(
    session: AsyncSession, directory: Any, word: str, candidates: list[Candidate]
) -> set[int]:
    on_item = {c.unit_id for c in candidates}
    key = normalize_unit_text(word)
    direct = {c.unit_id for c in candidates if normalize_unit_text(c.unit_name) == key}
    if direct:
        return direct
    try:
        units = await find_units(session, directory, word)
    except Exception:  # a directory that cannot search this word: treat as not a unit
        return set()
    return {u.id for u in units if u.id in on_item}


# --- the acts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActOutcome:
    candidate: Candidate
    action: str
    new_status: str
    due_after: date | None
    reason: str
    event: StatusEvent


async def act(
    session: AsyncSession,
    *,
    assignment_id: int,
    action: str,
    person: Person | None,
    roles: Roles,
    at: datetime,
    today: date,
    reason: str = "",
) -> ActOutcome:
    """办结 / 退回 / approve / deny on one assignment. Codes: unknown_assignment,
    not_your_plan, and bot.core.status's TransitionError codes (not_done_reported,
    no_extension_request, reason_required, closed)."""
    if action not in (CONFIRM, RETURN, APPROVE, DENY):
        raise ServiceError("unknown_action", action=action)
    # one reading of the row: the candidate and the snapshot agree
    row, candidate = await _row_and_candidate(session, assignment_id)
    if not roles.coordinates(candidate.plan_id):
        plan = await session.get(Plan, candidate.plan_id)
        raise ServiceError("not_your_plan", plan=plan.code if plan else "")
    snapshot = Snapshot(
        status=row.status,
        due=row.due,
        acknowledged=row.acknowledged_at is not None,
        progress=row.progress,
        extension_requested_to=row.extension_requested_to,
        progress_before_done=(
            await progress_before_done(session, assignment_id) if action == RETURN else None
        ),
    )
    if not pending_for(action, candidate):
        raise await not_pending_error(session, candidate, action)
    transition = apply(snapshot, Action(action), by="coordinator", today=today, reason=reason)
    changes = assignment_changes(row, transition, at=at)
    changed = {k: v for k, v in changes.items() if getattr(row, k) != v}
    # the claim and the change in one conditional UPDATE: the decision is written only if the
    # row still is what it was made on (status, extension request). False when another
    # decision came first (two coordinators pressing 办结 on two notices of the same item):
    # nothing is recorded. On PostgreSQL the second UPDATE waits for the first transaction
    # and sees its outcome; on SQLite writers are serialised anyway.
    extension = _ASSIGNMENT.c.extension_requested_to
    claimed = await session.exec(
        update(_ASSIGNMENT)
        .where(
            _ASSIGNMENT.c.id == assignment_id,
            _ASSIGNMENT.c.status == snapshot.status,
            extension.is_(None)
            if snapshot.extension_requested_to is None
            else extension == snapshot.extension_requested_to,
        )
        .values({**changed, "status": transition.new_status})
    )
    if claimed.rowcount != 1:  # another coordinator decided since we looked: record nothing
        raise await not_pending_error(session, candidate, action)
    touched = await touch_decided(await session.connection(), row.task_id, changed)
    _sync_loaded(session, assignment_id, changed, touched)
    event = status_event(
        assignment_id,
        transition,
        at=at,
        due_before=row.due if "due" in changes else None,
        actor=person,
        note=reason.strip(),
    )
    await _insert_event(session, event)
    return ActOutcome(
        candidate=candidate,
        action=action,
        new_status=transition.new_status,
        due_after=transition.due_after,
        reason=reason.strip(),
        event=event,
    )


def _sync_loaded(
    session: AsyncSession, assignment_id: int, changed: dict[str, Any], touched: bool
) -> None:
    """The session's Assignment object, when it holds one, as the UPDATE left the row (what
    an ORM update's synchronize_session does): a later read in the same session sees it."""
    loaded = session.sync_session.identity_map.get(identity_key(Assignment, assignment_id))
    if loaded is None:
        return
    for name, value in changed.items():
        set_committed_value(loaded, name, value)
    if touched:
        set_committed_value(loaded, "next_at", None)


_EVENT = table_of(StatusEvent)
_EVENT_COLUMNS = tuple(c.name for c in _EVENT.columns if c.name != "id")
_INSERT_EVENT = insert(_EVENT).values(
    {name: bindparam(name, type_=_EVENT.c[name].type) for name in _EVENT_COLUMNS}
)


async def _insert_event(session: AsyncSession, event: StatusEvent) -> None:
    """Store `event` (one constant INSERT, no flush) and make it the session's object."""
    done = await session.exec(
        _INSERT_EVENT, params={name: getattr(event, name) for name in _EVENT_COLUMNS}
    )
    key = done.inserted_primary_key
    assert key is not None  # a single-row INSERT
    event.id = key[0]
    make_transient_to_detached(event)
    session.add(event)


async def not_pending_error(session: AsyncSession, c: Candidate, action: str) -> ServiceError:
    """Why `action` cannot be done on `c`: code already_decided (with who decided what, and
    when: `act` is the decision's StatusEvent kind, `by` the coordinator, `at` the instant)
    when a coordinator decided on the latest report, else nothing_pending_<action>."""
    event = await latest_decision(session, c.assignment_id)
    if event is None:
        return ServiceError(f"nothing_pending_{action}", ref=c.ref)
    return ServiceError(
        "already_decided",
        ref=c.ref,
        unit=c.unit_name,
        act=event.kind,
        by=event.actor_label,
        at=event.at,
    )


async def progress_before_done(session: AsyncSession, assignment_id: int) -> int | None:
    """The last percentage below 100 the assignment had while under way (a liaison's
    进行中 / 有困难 report, or an earlier 退回 that went back to one), or None."""
    result = await session.exec(
        select(StatusEvent.progress)
        .where(
            StatusEvent.assignment_id == assignment_id,
            col(StatusEvent.progress).is_not(None),
            col(StatusEvent.progress) < 100,
            col(StatusEvent.new_status).in_([IN_PROGRESS, BLOCKED]),
        )
        .order_by(desc(col(StatusEvent.at)), desc(col(StatusEvent.id)))
        .limit(1)
    )
    return result.first()


async def candidate_by_id(session: AsyncSession, assignment_id: int) -> Candidate:
    """Code: unknown_assignment."""
    return (await _row_and_candidate(session, assignment_id))[1]


_ASSIGNMENT = table_of(Assignment)
_MILESTONE = table_of(Milestone)
_TASK = table_of(Task)
_UNIT = table_of(Unit)
_NAMESAKE = _UNIT.alias("namesake")
# one assignment with its milestone, item and unit (a constant statement: compiled once per
# process, SQLAlchemy's statement cache); `sharing`: how many units have its short name
_ACT_ROW = (
    select_rows(
        _ASSIGNMENT.c.id,
        _ASSIGNMENT.c.milestone_id,
        _ASSIGNMENT.c.unit_id,
        _ASSIGNMENT.c.role,
        _ASSIGNMENT.c.status,
        _ASSIGNMENT.c.due,
        _ASSIGNMENT.c.progress,
        _ASSIGNMENT.c.extension_requested_to,
        _ASSIGNMENT.c.acknowledged_at,
        _ASSIGNMENT.c.last_report_at,
        _ASSIGNMENT.c.done_reported_at,
        _ASSIGNMENT.c.closed_at,
        _TASK.c.plan_id,
        _TASK.c.ref,
        _TASK.c.title,
        _MILESTONE.c.task_id,
        _MILESTONE.c.seq,
        _MILESTONE.c.original_due,
        _UNIT.c.name.label("unit_name"),
        _UNIT.c.short_name,
        select(func.count())
        .select_from(_NAMESAKE)
        .where(_NAMESAKE.c.short_name == _UNIT.c.short_name)
        .scalar_subquery()
        .label("sharing"),
    )
    .join(_MILESTONE, _MILESTONE.c.id == _ASSIGNMENT.c.milestone_id)
    .join(_TASK, _TASK.c.id == _MILESTONE.c.task_id)
    .join(_UNIT, _UNIT.c.id == _ASSIGNMENT.c.unit_id)
    .where(
        _ASSIGNMENT.c.id == bindparam("assignment_id"),
        _ASSIGNMENT.c.archived_at.is_(None),
        _MILESTONE.c.archived_at.is_(None),
    )
)


async def _row_and_candidate(session: AsyncSession, assignment_id: int) -> tuple[Any, Candidate]:
    """The active assignment `assignment_id` (its columns, as stored) and the candidate it is,
    read in one statement: an act on one assignment reads that row with its milestone, item
    and unit, nothing of the item's other assignments, and no ORM object. Changes the session
    holds are flushed first (as a query through the session would). Code:
    unknown_assignment."""
    await session.flush()
    found: Any = (await session.exec(_ACT_ROW, params={"assignment_id": assignment_id})).first()
    if found is None:
        raise ServiceError("unknown_assignment")
    short, shared = found.short_name, found.sharing
    return found, Candidate(
        assignment_id=found.id,
        task_id=found.task_id,
        plan_id=found.plan_id,
        ref=found.ref,
        title=found.title,
        unit_id=found.unit_id,
        unit_name=short if short and shared == 1 else found.unit_name,  # as unit_names does
        role=found.role,
        seq=found.seq,
        due=found.due,
        original_due=found.original_due,
        status=found.status,
        extension_requested_to=found.extension_requested_to,
        acknowledged=found.acknowledged_at is not None,
    )


async def liaisons(session: AsyncSession, unit_id: int) -> list[Person]:
    """Active liaisons of a unit who can be messaged."""
    people = (await liaisons_of_units(session, [unit_id])).get(unit_id, [])
    return [p for p in people if p.active and p.telegram_id is not None]


# --- 催办 ----------------------------------------------------------------------------------


def chase_key(assignment_id: int, at: datetime, chat_id: int) -> str:
    """The Outbox idempotency key: one chase per assignment and instant, per recipient."""
    return f"chase:{assignment_id}:{at:%Y%m%d%H%M%S}|{chat_id}"


async def chase_payload(session: AsyncSession, c: Candidate, *, today: date) -> ItemNotice:
    """The item as a `chase` row shows it (bot.telegram.notices renders it)."""
    plan = await session.get(Plan, c.plan_id)
    milestone_target = (
        await session.exec(
            select(Milestone.target, Milestone.phrase)
            .join(Assignment, col(Assignment.milestone_id) == Milestone.id)
            .where(Assignment.id == c.assignment_id)
        )
    ).first()
    task = await session.get(Task, c.task_id)
    assert task is not None  # the candidate was just read through its task
    everyone = await item_candidates(session, task)
    units = tuple(UnitRef(o.unit_name, o.role) for o in everyone if o.seq == c.seq)
    return ItemNotice(
        plan=plan.code if plan else "",
        plan_title=plan.title if plan else "",
        ref=c.ref,
        title=c.title,
        target=(milestone_target[0] if milestone_target else "") or "",
        phrase=(milestone_target[1] if milestone_target else "") or "",
        due=c.due,
        original_due=c.original_due,
        days=(c.due - today).days,
        unit=c.unit_name,
        unit_id=c.unit_id,
        units=units,
        role=c.role,
        status=c.status,
        acknowledged=c.acknowledged,
        audience=Audience.LIAISONS,
    )


@dataclass(frozen=True)
class ChaseOutcome:
    candidate: Candidate
    queued: int  # Outbox rows (one per liaison)
    recipients: list[str]


async def chase(
    session: AsyncSession,
    *,
    assignment_id: int,
    person: Person | None,
    roles: Roles,
    at: datetime,
    today: date,
    default_locale: str,
    note: str = "",
) -> ChaseOutcome:
    """催办 now: one Outbox row of kind "chase" per liaison of the unit (the sender delivers
    them), and a "remind" event in the item's history. Codes: unknown_assignment,
    not_your_plan, no_liaison, closed."""
    candidate = await candidate_by_id(session, assignment_id)
    if not roles.coordinates(candidate.plan_id):
        plan = await session.get(Plan, candidate.plan_id)
        raise ServiceError("not_your_plan", plan=plan.code if plan else "")
    if candidate.status not in OPEN_STATUSES:
        raise ServiceError(f"nothing_pending_{REMIND}", ref=candidate.ref)
    people = await liaisons(session, candidate.unit_id)
    if not people:
        raise ServiceError("no_liaison", unit=candidate.unit_name)
    notice = replace(
        await chase_payload(session, candidate, today=today),
        note=note.strip(),
        by=person.name if person is not None and person.name else "",
    )
    payload = notice.to_json()
    queued = 0
    for p in people:
        if p.telegram_id is None:  # never: liaisons() keeps the reachable ones
            continue
        key = chase_key(assignment_id, at, p.telegram_id)
        exists = (await session.exec(select(func.count()).where(Outbox.key == key))).one()
        if exists:
            continue
        session.add(
            Outbox(
                key=key,
                kind=OutboxKind.CHASE,
                chat_id=p.telegram_id,
                person_id=p.id,
                assignment_id=assignment_id,
                stage="manual",
                locale=p.locale or default_locale,
                payload=payload,
                created_at=at,
                not_before=at,
            )
        )
        queued += 1
    session.add(
        StatusEvent(
            assignment_id=assignment_id,
            at=at,
            actor_id=person.id if person else None,
            actor_label=person.name if person and person.name else ACTOR_COORDINATOR,
            kind="remind",
            old_status=candidate.status,
            new_status=candidate.status,
            note=note.strip(),
        )
    )
    await session.flush()
    return ChaseOutcome(candidate, queued, [p.name or p.username or "" for p in people])


__all__ = [
    "ACTIONS",
    "APPROVE",
    "CONFIRM",
    "DENY",
    "NEEDS_REASON",
    "REMIND",
    "RETURN",
    "ActOutcome",
    "Candidate",
    "ChaseOutcome",
    "ScopeChoice",
    "Targets",
    "act",
    "allowed_plans",
    "candidate_by_id",
    "chase",
    "chase_key",
    "current_per_unit",
    "item_candidates",
    "liaisons",
    "pending_for",
    "resolve_scope",
    "scope_from_ids",
    "targets_for",
]
