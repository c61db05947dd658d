# Over 400 lines: one payload model per Outbox kind, kept in one schema that both sides read.
"""What an Outbox row carries (pure): its kind, its status, its audience and its payload.

The planner (`bot.services.planning`, `bot.services.digest`), the coordinators' services
(manual 催办, decisions, plan reload notices) and the sender write rows; the Telegram renderer
(`bot.telegram.notices`) reads them. Both sides go through the models here: each kind has one
payload model with `to_json()` (what is stored in `outbox.payload`) and `from_json()` (which
accepts rows written by earlier releases: a missing key reads as its default).

The enums' values are the strings stored in the database: rows and keys written before them
stay valid. The models are values: never changed once built (`dataclasses.replace` makes a
new one). They are not `frozen` only because a frozen dataclass is built 2.5 times slower, and
the first planning pass after a plan is loaded builds some 150,000 of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Self

Json = dict[str, Any]


class OutboxKind(StrEnum):
    REMINDER = "reminder"  # 提醒, N days before the due date
    ACK_CHASE = "ack_chase"  # 催办: not acknowledged (签收) in time
    OVERDUE = "overdue"  # 逾期提醒
    ESCALATION = "escalation"  # 督办 (overdue) or the acknowledgement escalation
    ESCALATION_BATCH = "escalation_batch"  # 督办汇总: one per recipient, plan and day
    OVERDUE_BATCH = "overdue_batch"  # 逾期事项清单: one per flooded liaison, plan and day
    PERIODIC = "periodic"  # a recurring duty's report request
    DIGEST = "digest"  # 周报
    CHASE = "chase"  # manual /remind by a coordinator
    NOTICE = "notice"  # ready HTML (unreachable recipients, plan reloads)
    DECISION = "decision"  # what waits for a coordinator's 办结 / 批准
    BRIEF = "brief"  # 今日待办: a liaison's stages of the day in one message (bot.core.brief)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by the sender; left so by a crash → sent again
    SENT = "sent"
    FAILED = "failed"  # recipient unreachable (403)
    DEAD = "dead"  # Telegram refused the message (400)
    CANCELLED = "cancelled"  # planned, but the assignment moved on before it was sent
    BATCHED = "batched"  # a marker row: a stage that went into summaries or lists, never sent
    # a liaison's row waiting for their next brief (the brief time, or tomorrow's brief when
    # today's follow-up went already); only the brief composer takes it, never the sender
    HELD = "held"
    # carried by a brief (`outbox.via` is the brief's key): it becomes `sent` with the brief
    BRIEFED = "briefed"


class Audience(StrEnum):
    LIAISONS = "liaisons"
    LEADERS = "leaders"
    COORDINATORS = "coordinators"
    GROUPS = "groups"
    BATCHED = "batched"  # a marker row's


# kinds that chase an assignment: pointless once its completion is reported or it is closed
CHASING_KINDS = frozenset(
    {
        OutboxKind.REMINDER,
        OutboxKind.ACK_CHASE,
        OutboxKind.OVERDUE,
        OutboxKind.ESCALATION,
        OutboxKind.CHASE,
        OutboxKind.PERIODIC,
    }
)


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    return date.fromisoformat(value) if value else None


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value) if value else None


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


# Lean payloads (summaries, lists, digests, briefs, rankings; README "Rows refer, the sender
# renders"): an item is a JSON array of what the stage says, not an object that copies it.
# What follows from the rest is not stored: a date that is the payload's date moved by the
# item's days is written 0 (`_lean_day`), trailing defaults are dropped (`_trimmed`). Texts
# (titles, unit and plan names) are read from the ledger when the row is rendered
# (`bot.storage.outbox.details.rendered_payload`). Rows of earlier releases hold objects.


def _lean_day(value: date | None, derived: date | None) -> str | int | None:
    """A date in a lean item: 0 when it is `derived` (the payload's date and the item's
    days say it), else the date itself."""
    if value is not None and value == derived:
        return 0
    return _iso(value)


def _read_day(value: Any, derived: date | None) -> date | None:
    """A date of a lean item (see `_lean_day`)."""
    return derived if value == 0 else _day(value)


def _moved(base: date | None, days: int) -> date | None:
    return None if base is None else base + timedelta(days=days)


def _trimmed(values: list[Any], defaults: tuple[Any, ...]) -> list[Any]:
    """`values` without the trailing ones that are their position's default (`defaults`
    align with the end of `values`)."""
    start = end = len(values)
    start -= len(defaults)
    while end > start and values[end - 1] == defaults[end - 1 - start]:
        end -= 1
    return values[:end]  # (a first pass trims the lean form of every item it plans)


def _at(values: list[Any], index: int, default: Any) -> Any:
    return values[index] if len(values) > index else default


# --- one item: reminder, ack_chase, overdue, escalation, periodic, chase ----------------------


@dataclass(slots=True)
class UnitRef:
    """A unit responsible for the item's milestone: lead (牵头) or support (配合)."""

    name: str
    role: str = ""

    def to_json(self) -> Json:
        return {"name": self.name, "role": self.role}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(str(data.get("name", "")), str(data.get("role") or ""))


@dataclass(slots=True)
class ChaseRecord:
    """An earlier reminder, chase or escalation of the item: shown to leaders and coordinators
    in a 督办 (who was chased before, when)."""

    kind: str
    stage: str
    at: datetime | None
    to: str
    audience: str
    sent: bool

    def to_json(self) -> Json:
        return {
            "kind": self.kind,
            "stage": self.stage,
            "at": self.at.isoformat() if self.at else None,
            "to": self.to,
            "audience": self.audience,
            "sent": self.sent,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            kind=str(data.get("kind", "")),
            stage=str(data.get("stage", "")),
            at=_instant(data.get("at")),
            to=str(data.get("to") or ""),
            audience=str(data.get("audience") or ""),
            sent=bool(data.get("sent", False)),
        )

    @property
    def of_liaisons(self) -> bool:
        """A chase of the unit (its liaisons), not a 督办 to its leaders."""
        return self.audience in (Audience.LIAISONS, "")


@dataclass(slots=True)
class ItemNotice:
    """The payload of kinds reminder, ack_chase, overdue, escalation, periodic and chase: one
    assignment, as its recipient sees it. `chased` only on a 督办 to leaders / coordinators;
    `period_end` only on a report request; `note` and `by` only on a manual chase."""

    plan: str = ""
    plan_title: str = ""
    ref: str = ""
    title: str = ""
    item_kind: str = ""
    target: str = ""
    phrase: str = ""
    original_due: date | None = None
    unit: str = ""
    unit_id: int | None = None
    role: str = ""
    status: str = ""
    acknowledged: bool = True
    units: tuple[UnitRef, ...] = ()
    chased: tuple[ChaseRecord, ...] | None = None
    audience: str = ""
    stage: str = ""
    due: date | None = None
    days: int | None = None  # reminder: days left; overdue: days overdue; ack: working days
    ladder: str = ""  # "due" | "ack" | "periodic" ("" on a manual chase)
    period_end: date | None = None
    note: str = ""  # the coordinator's words (plain text)
    by: str = ""  # their name

    def to_json(self) -> Json:
        out: Json = {
            "plan": self.plan,
            "plan_title": self.plan_title,
            "ref": self.ref,
            "title": self.title,
            "item_kind": self.item_kind,
            "target": self.target,
            "phrase": self.phrase,
            "original_due": _iso(self.original_due),
            "unit": self.unit,
            "unit_id": self.unit_id,
            "role": self.role,
            "status": self.status,
            "acknowledged": self.acknowledged,
            "units": [u.to_json() for u in self.units],
        }
        if self.chased is not None:
            out["chased"] = [c.to_json() for c in self.chased]
        out["audience"] = self.audience
        out["stage"] = self.stage
        out["due"] = _iso(self.due)
        out["days"] = self.days
        if self.ladder:
            out["ladder"] = self.ladder
        if self.period_end is not None:
            out["period_end"] = self.period_end.isoformat()
        if self.note:
            out["note"] = self.note
        if self.by:
            out["by"] = self.by
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        chased = data.get("chased")
        days = data.get("days")
        return cls(
            plan=str(data.get("plan") or ""),
            plan_title=str(data.get("plan_title") or ""),
            ref=str(data.get("ref") or ""),
            title=str(data.get("title") or ""),
            item_kind=str(data.get("item_kind") or ""),
            target=str(data.get("target") or ""),
            phrase=str(data.get("phrase") or ""),
            original_due=_day(data.get("original_due")),
            unit=str(data.get("unit") or ""),
            unit_id=data.get("unit_id"),
            role=str(data.get("role") or ""),
            status=str(data.get("status") or ""),
            acknowledged=bool(data.get("acknowledged", True)),
            units=tuple(UnitRef.from_json(u) for u in data.get("units") or ()),
            chased=None if chased is None else tuple(ChaseRecord.from_json(c) for c in chased),
            audience=str(data.get("audience") or ""),
            stage=str(data.get("stage") or ""),
            due=_day(data.get("due")),
            days=days if isinstance(days, int) and not isinstance(days, bool) else None,
            ladder=str(data.get("ladder") or ""),
            period_end=_day(data.get("period_end")),
            note=str(data.get("note") or ""),
            by=str(data.get("by") or ""),
        )


# what a planned row of one item stores (its payload); the rest of `ItemNotice` is the item
# as the ledger has it when the message is rendered (`bot.storage.outbox.details`)
STAGE_FIELDS = ("plan", "audience", "stage", "due", "days", "ladder", "period_end", "chased")


_LEAN_STAGE = frozenset(STAGE_FIELDS) - {"chased"}


def lean_stage(data: Mapping[str, Any]) -> tuple[str, int | None, date | None, date | None] | None:
    """(plan, days, due, period end) of a planned row's lean payload (`stage_payload`: no key
    beyond what a stage says), as `ItemNotice.from_json` reads them (the item's texts are
    then empty, and it counts as acknowledged); None for any other payload. The brief
    composer reads thousands after a first pass."""
    if not _LEAN_STAGE.issuperset(data):
        return None
    days = data.get("days")
    return (
        str(data.get("plan") or ""),
        days if isinstance(days, int) and not isinstance(days, bool) else None,
        _day(data.get("due")),
        _day(data.get("period_end")),
    )


def stage_payload(
    plan: str | None,
    audience: str,
    due: date | None,
    days: int | None,
    ladder: str,
    period_end: date | None = None,
) -> Json:
    """The payload of a planned reminder, chase, overdue notice, 督办 or report request: a
    reference to the item (the row's assignment and stage) and what the stage says; no copy
    of the item (plan code kept: the brief's policy is per plan)."""
    out: Json = {"plan": plan or "", "audience": audience, "due": _iso(due), "days": days}
    if ladder:
        out["ladder"] = ladder
    if period_end is not None:
        out["period_end"] = period_end.isoformat()
    return out


def is_reference(data: Mapping[str, Any]) -> bool:
    """A payload (of an item, or an item of a summary or list) that refers to its item
    rather than copying it: rows planned since lean rows (earlier rows carry the title)."""
    return "title" not in data


def with_item(stage: ItemNotice, item: ItemNotice) -> ItemNotice:
    """A referring payload (`stage_payload`) completed with its item as the ledger has it."""
    return ItemNotice(
        plan=item.plan or stage.plan,
        plan_title=item.plan_title,
        ref=item.ref,
        title=item.title,
        item_kind=item.item_kind,
        target=item.target,
        phrase=item.phrase,
        original_due=item.original_due,
        unit=item.unit,
        unit_id=item.unit_id,
        role=item.role,
        status=item.status,
        acknowledged=item.acknowledged,
        units=item.units,
        chased=stage.chased,
        audience=stage.audience,
        stage=stage.stage,
        due=stage.due,
        days=stage.days,
        ladder=stage.ladder,
        period_end=stage.period_end,
        note=stage.note,
        by=stage.by,
    )


# --- 督办汇总 and 逾期事项清单 -----------------------------------------------------------------


@dataclass(slots=True)
class ChasedBrief:
    """How often the unit was chased before an item of a 督办汇总, and the latest chase."""

    n: int = 0
    at: datetime | None = None
    kind: str = ""
    to: tuple[str, ...] = ()

    def to_json(self) -> Json:
        if not self.n:
            return {"n": 0}
        at = self.at.isoformat() if self.at else None
        return {"n": self.n, "at": at, "kind": self.kind, "to": list(self.to)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Self:
        data = data or {}
        return cls(
            n=int(data.get("n") or 0),
            at=_instant(data.get("at")),
            kind=str(data.get("kind") or ""),
            to=tuple(str(x) for x in data.get("to") or ()),
        )


_BATCH_KINDS = ("overdue", "escalation")  # a lean item's kind is its index here


@dataclass(slots=True)
class BatchItem:
    """One item of a 督办汇总 (with `chased`) or of a liaison's 逾期事项清单 (without)."""

    id: int | None
    ref: str
    title: str
    unit: str
    status: str = ""
    kind: str = ""  # overdue (逾期提醒) | escalation (督办)
    ladder: str = "due"  # "due": overdue 督办 · "ack": not acknowledged
    days: int = 0  # days overdue / working days since assignment
    due: date | None = None
    stage: str = ""
    chased: ChasedBrief | None = None

    def rank(self) -> tuple[bool, int, str, str]:
        """Worst first: overdue items by days overdue, then unacknowledged ones by working
        days."""
        return (self.ladder != "due", -self.days, self.ref, self.unit)

    def to_json(self) -> Json:
        out: Json = {
            "id": self.id,
            "ref": self.ref,
            "title": self.title,
            "unit": self.unit,
            "status": self.status,
            "kind": self.kind,
            "ladder": self.ladder,
            "days": self.days,
            "due": self.due.isoformat() if self.due is not None else None,
            "stage": self.stage,
        }
        if self.chased is not None:
            out["chased"] = self.chased.to_json()
        return out

    def _derived(self, on: date | None) -> tuple[date | None, str]:
        """The due date and stage an overdue item's days say on the summary's date `on`."""
        if self.ladder == "due":
            due = _moved(on, -self.days)
            return due, f"od{self.days}@{_iso(self.due)}"
        return None, f"ack{self.days}"

    def to_lean(self, on: date | None) -> list[Any]:
        """The item as a planned summary or list stores it (`on`: its date): [id, ref, kind,
        days, due, stage, ladder, chased], due and stage 0 when the days say them, kind 0/1
        (overdue/escalation), ladder 0 ("due") or its name, chased 0 (never chased) or [n,
        at, kind, to]; trailing defaults dropped. Its title, unit and status are read from
        the ledger when the message is rendered; ref is kept (the brief composer, and an
        item deleted meanwhile, name it by it)."""
        due, stage = self._derived(on)
        kind: str | int = _BATCH_KINDS.index(self.kind) if self.kind in _BATCH_KINDS else self.kind
        chased: Any = None
        if self.chased is not None:
            c = self.chased
            chased = [c.n, c.at.isoformat() if c.at else None, c.kind, list(c.to)] if c.n else 0
        values = [
            self.id,
            self.ref,
            kind,
            self.days,
            _lean_day(self.due, due),
            0 if self.stage == stage else self.stage,
            0 if self.ladder == "due" else self.ladder,
            chased,
        ]
        return _trimmed(values, (0, 0, 0, None))

    @classmethod
    def from_lean(cls, values: list[Any], on: date | None) -> Self:
        """The item `to_lean` stored (title, unit and status empty: the ledger's)."""
        kind = values[2]
        ladder = _at(values, 6, 0) or "due"
        item = cls(
            id=values[0],
            ref=str(values[1] or ""),
            title="",
            unit="",
            kind=_BATCH_KINDS[kind] if isinstance(kind, int) else str(kind),
            ladder=str(ladder),
            days=int(values[3] or 0),
        )
        due, _ = item._derived(on)
        item.due = _read_day(_at(values, 4, 0), due)
        _, stage = item._derived(on)
        item.stage = stage if _at(values, 5, 0) == 0 else str(values[5])
        chased = _at(values, 7, None)
        if chased is not None:
            item.chased = (
                ChasedBrief()
                if chased == 0
                else ChasedBrief(
                    int(chased[0]), _instant(chased[1]), str(chased[2]), tuple(chased[3])
                )
            )
        return item

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        chased = data.get("chased")
        return cls(
            id=data.get("id"),
            ref=str(data.get("ref") or ""),
            title=str(data.get("title") or ""),
            unit=str(data.get("unit") or ""),
            status=str(data.get("status") or ""),
            kind=str(data.get("kind") or ""),
            ladder=str(data.get("ladder") or "due"),
            days=int(data.get("days") or 0),
            due=_day(data.get("due")),
            stage=str(data.get("stage") or ""),
            chased=None if chased is None else ChasedBrief.from_json(chased),
        )


@dataclass(slots=True)
class BatchNotice:
    """The payload of escalation_batch (督办汇总, `counts` by ladder) and overdue_batch
    (逾期事项清单, `counts` by kind): the items worst first, at most the policy's cap (`more`
    counts the rest); `follow_up` numbers a later one of the same day (0: the first)."""

    plan: str
    plan_title: str
    date: date | None
    audience: str
    total: int
    counts: Mapping[str, int]
    items: tuple[BatchItem, ...]
    more: int = 0
    follow_up: int = 0
    ranking: RankingBlock | None = None  # a leader's 督办汇总: the plan's units (a picture)

    def to_json(self, *, lean: bool = False) -> Json:
        """`lean`: as planned rows store it: the items as `BatchItem.to_lean`, no plan title,
        the ranking lean (`RankingBlock.to_json`); the texts are the ledger's when rendered."""
        out: Json = {"plan": self.plan}
        if not lean:
            out["plan_title"] = self.plan_title
        out["date"] = _iso(self.date)
        out["audience"] = self.audience
        out["total"] = self.total
        out["counts"] = dict(self.counts)
        out["items"] = [i.to_lean(self.date) if lean else i.to_json() for i in self.items]
        out["more"] = self.more
        out["follow_up"] = self.follow_up
        if self.ranking is not None:
            out["ranking"] = self.ranking.to_json(lean=lean)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        on = _day(data.get("date"))
        return cls(
            plan=str(data.get("plan") or ""),
            plan_title=str(data.get("plan_title") or ""),
            date=on,
            audience=str(data.get("audience") or ""),
            total=int(data.get("total") or 0),
            counts={str(k): int(v) for k, v in (data.get("counts") or {}).items()},
            items=tuple(
                BatchItem.from_lean(i, on) if isinstance(i, list) else BatchItem.from_json(i)
                for i in data.get("items") or ()
            ),
            more=int(data.get("more") or 0),
            follow_up=int(data.get("follow_up") or 0),
            ranking=RankingBlock.from_json(data.get("ranking")),
        )


def lean_listed(data: Mapping[str, Any]) -> list[tuple[Any, str, int, date | None, bool]] | None:
    """(id, ref, days, due, escalated) of each item of a summary's or list's payload, as
    `BatchNotice.from_json` reads them, when every item is lean (`BatchItem.to_lean`); None
    otherwise. Without making the items: the brief composer reads tens of thousands of them
    after a first pass, and needs no more of them."""
    on = _day(data.get("date"))
    dues: dict[int, date | None] = {}  # the due dates the days say (an item's days: few values)
    out = []
    for values in data.get("items") or ():
        if not isinstance(values, list):
            return None
        kind = values[2]
        days = int(values[3] or 0)
        stored = _at(values, 4, 0)
        if stored != 0:
            due = _day(stored)
        elif (_at(values, 6, 0) or "due") != "due":
            due = None  # the acknowledgement ladder: no due date derived
        elif days in dues:
            due = dues[days]
        else:
            due = dues[days] = _moved(on, -days)
        escalated = (_BATCH_KINDS[kind] if isinstance(kind, int) else str(kind)) == "escalation"
        out.append((values[0], str(values[1] or ""), days, due, escalated))
    return out


@dataclass(slots=True)
class BatchMarker:
    """The payload of a stage's mark as releases before migration 0016 wrote it (before 0013
    a marker row of the Outbox, status batched, chat 0; a mark is now a row of table stagemark
    with its liaisons' ids, `bot.storage.models.StageMark`): the keys of the summaries and
    lists that carried the stage, and the names of the liaisons who got it in a list (the
    chase history counts them)."""

    batches: tuple[str, ...]
    liaisons: tuple[str, ...] = ()

    def to_json(self) -> Json:
        out: Json = {"audience": Audience.BATCHED, "batches": list(self.batches)}
        if self.liaisons:
            out["liaisons"] = list(self.liaisons)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            tuple(str(k) for k in data.get("batches") or ()),
            tuple(str(n) for n in data.get("liaisons") or ()),
        )


# --- the weekly digest ------------------------------------------------------------------------

DIGEST_LISTS = ("completed", "newly_overdue", "overdue", "due_soon")
# an item's due date is the digest's date moved by its days this way (due soon: days left;
# the others: days since it was due)
_DAYS_SIGN = {"due_soon": 1}


@dataclass(slots=True)
class DigestItem:
    """An item of a digest list; `days`: overdue by (overdue lists) or left (due soon)."""

    id: int
    ref: str
    title: str
    unit: str
    due: str  # ISO date
    days: int

    def to_json(self) -> Json:
        return {
            "id": self.id,
            "ref": self.ref,
            "title": self.title,
            "unit": self.unit,
            "due": self.due,
            "days": self.days,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            id=int(data.get("id") or 0),
            ref=str(data.get("ref") or ""),
            title=str(data.get("title") or ""),
            unit=str(data.get("unit") or ""),
            due=str(data.get("due") or ""),
            days=int(data.get("days") or 0),
        )

    def to_lean(self, derived: date | None) -> list[Any]:
        """[id, days] (+ due when it is not `derived`, the digest's date moved by the days):
        ref, title and unit are the ledger's when the digest is rendered."""
        due = _lean_day(_day(self.due), derived) if self.due else self.due
        return [self.id, self.days] if due == 0 else [self.id, self.days, due]

    @classmethod
    def from_lean(cls, values: list[Any], today: date | None, sign: int) -> Self:
        days = int(values[1] or 0)
        due = _read_day(_at(values, 2, 0), _moved(today, sign * days))
        return cls(
            id=int(values[0] or 0), ref="", title="", unit="", due=_iso(due) or "", days=days
        )


@dataclass(slots=True)
class ScoreRow:
    """A unit of a ranking in 通报 order (`bot.core.ranking`); rates as (numerator,
    denominator); `rank` None: nothing due yet, not ranked."""

    rank: int | None
    unit_id: int
    unit: str
    total: int
    closed: int
    overdue: int
    red: int
    on_time: tuple[int, int]
    ack: tuple[int, int]
    mine: bool = False

    def to_json(self) -> Json:
        return {
            "rank": self.rank,
            "unit_id": self.unit_id,
            "unit": self.unit,
            "total": self.total,
            "closed": self.closed,
            "overdue": self.overdue,
            "red": self.red,
            "on_time": list(self.on_time),
            "ack": list(self.ack),
            "mine": self.mine,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        on_time = [*(data.get("on_time") or ()), 0, 0][:2]
        ack = [*(data.get("ack") or ()), 0, 0][:2]
        overdue = int(data.get("overdue") or 0)
        return cls(
            rank=None if data.get("rank") is None else int(data["rank"]),
            unit_id=int(data.get("unit_id") or 0),
            unit=str(data.get("unit") or ""),
            total=int(data.get("total") or 0),
            closed=int(data.get("closed") or 0),
            overdue=overdue,
            red=int(data.get("red", overdue) or 0),
            on_time=(int(on_time[0]), int(on_time[1])),
            ack=(int(ack[0]), int(ack[1])),
            mine=bool(data.get("mine", False)),
        )

    def to_lean(self) -> list[Any]:
        """[rank, unit id, total, closed, overdue, on time n/d, 签收 n/d] (+ red and mine when
        red is not overdue or mine is set): the unit's name is the ledger's when rendered."""
        values = [
            self.rank,
            self.unit_id,
            self.total,
            self.closed,
            self.overdue,
            *self.on_time,
            *self.ack,
        ]
        if self.red != self.overdue or self.mine:
            values += [self.red, int(self.mine)]
        return values

    @classmethod
    def from_lean(cls, values: list[Any]) -> Self:
        overdue = int(values[4])
        return cls(
            rank=None if values[0] is None else int(values[0]),
            unit_id=int(values[1]),
            unit="",
            total=int(values[2]),
            closed=int(values[3]),
            overdue=overdue,
            red=int(_at(values, 9, overdue)),
            on_time=(int(values[5]), int(values[6])),
            ack=(int(values[7]), int(values[8])),
            mine=bool(_at(values, 10, 0)),
        )


@dataclass(slots=True)
class RankingBlock:
    """The units' ranking of a scope (one plan or several), frozen into a payload: the
    picture's data, the digest's scorecard and the headline (`bot.services.ranking`, in the
    order of `bot.core.ranking`). `at`: the data's "as of"; `plans`: (code, title) of the
    scope's plans; `closed_week` / `overdue_week`: this week's change over the scope (items
    closed in the last 7 days, items that fell overdue in the last 7 days)."""

    at: datetime | None
    plans: tuple[tuple[str, str], ...]
    rows: tuple[ScoreRow, ...]
    closed_week: int = 0
    overdue_week: int = 0

    def to_json(self, *, lean: bool = False) -> Json:
        """`lean`: the plans by code and the rows as `ScoreRow.to_lean` (no names: the
        ledger's when rendered)."""
        return {
            "at": self.at.isoformat() if self.at is not None else None,
            "plans": [p[0] if lean else list(p) for p in self.plans],
            "rows": [r.to_lean() if lean else r.to_json() for r in self.rows],
            "closed_week": self.closed_week,
            "overdue_week": self.overdue_week,
        }

    @property
    def lean(self) -> bool:
        """Read from a lean payload: its names are to be read from the ledger."""
        return any(not title for _, title in self.plans) or any(not r.unit for r in self.rows)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Self | None:
        if not data:
            return None
        return cls(
            at=_instant(data.get("at")),
            plans=tuple(
                (p, "") if isinstance(p, str) else (str(p[0]), str(p[1]))
                for p in data.get("plans") or ()
            ),
            rows=tuple(
                ScoreRow.from_lean(r) if isinstance(r, list) else ScoreRow.from_json(r)
                for r in data.get("rows") or ()
            ),
            closed_week=int(data.get("closed_week") or 0),
            overdue_week=int(data.get("overdue_week") or 0),
        )


@dataclass(slots=True)
class DigestPlan:
    """One plan's part of a digest: its lists (cut to `max_items`; `more` counts the rest,
    `totals` every item). The units' ranking is the digest's `RankingBlock`, over the
    recipient's plans together (payloads of earlier releases had one per plan: `scorecard`)."""

    code: str
    title: str
    lists: Mapping[str, tuple[DigestItem, ...]]
    more: Mapping[str, int]
    totals: Mapping[str, int]
    scorecard: tuple[ScoreRow, ...] = ()

    def to_json(self, *, today: date | None = None, lean: bool = False) -> Json:
        """`lean` (`today`: the digest's date): no title, the items as `DigestItem.to_lean`,
        empty lists and `more` left out, the totals as a list in `DIGEST_LISTS` order."""
        if lean:
            out: Json = {"code": self.code}
            if self.more:
                out["more"] = dict(self.more)
            for name in DIGEST_LISTS:
                items = self.lists.get(name, ())
                if items:
                    sign = _DAYS_SIGN.get(name, -1)
                    out[name] = [
                        i.to_lean(_moved(today, sign * i.days) if today else None) for i in items
                    ]
            out["totals"] = [int(self.totals.get(name, 0)) for name in DIGEST_LISTS]
            if set(self.totals) - set(DIGEST_LISTS):
                out["totals"] = dict(self.totals)
        else:
            out = {"code": self.code, "title": self.title, "more": dict(self.more)}
            for name in DIGEST_LISTS:
                out[name] = [i.to_json() for i in self.lists.get(name, ())]
            out["totals"] = dict(self.totals)
        if self.scorecard:
            out["scorecard"] = [r.to_json() for r in self.scorecard]
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any], today: date | None = None) -> Self:
        totals = data.get("totals") or {}
        if isinstance(totals, list):
            totals = dict(zip(DIGEST_LISTS, totals, strict=False))

        def item(name: str, value: Any) -> DigestItem:
            if isinstance(value, list):
                return DigestItem.from_lean(value, today, _DAYS_SIGN.get(name, -1))
            return DigestItem.from_json(value)

        return cls(
            code=str(data.get("code") or ""),
            title=str(data.get("title") or ""),
            lists={
                name: tuple(item(name, i) for i in data.get(name) or ()) for name in DIGEST_LISTS
            },
            more={str(k): int(v) for k, v in (data.get("more") or {}).items()},
            totals={str(k): int(v) for k, v in totals.items()},
            scorecard=tuple(ScoreRow.from_json(r) for r in data.get("scorecard") or ()),
        )


@dataclass(slots=True)
class DigestNotice:
    """The payload of a digest: one recipient's week, cut to their plans and units
    (`unit_ids` None: every unit)."""

    week: str
    week_start: date | None
    today: date | None
    audience: str
    unit_ids: tuple[int, ...] | None
    plans: tuple[DigestPlan, ...]
    ranking: RankingBlock | None = None  # the recipient's plans together: picture and text

    def to_json(self, *, lean: bool = False) -> Json:
        """`lean`: as planned rows store it (`DigestPlan.to_json`, `RankingBlock.to_json`):
        the texts are the ledger's when rendered."""
        out: Json = {
            "week": self.week,
            "week_start": _iso(self.week_start),
            "today": _iso(self.today),
            "audience": self.audience,
            "unit_ids": list(self.unit_ids) if self.unit_ids is not None else None,
            "plans": [p.to_json(today=self.today, lean=lean) for p in self.plans],
        }
        if self.ranking is not None:
            out["ranking"] = self.ranking.to_json(lean=lean)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        unit_ids = data.get("unit_ids")
        today = _day(data.get("today"))
        return cls(
            week=str(data.get("week") or ""),
            week_start=_day(data.get("week_start")),
            today=today,
            audience=str(data.get("audience") or ""),
            unit_ids=None if unit_ids is None else tuple(int(u) for u in unit_ids),
            plans=tuple(DigestPlan.from_json(p, today) for p in data.get("plans") or ()),
            ranking=RankingBlock.from_json(data.get("ranking")),
        )


# --- notices and decisions --------------------------------------------------------------------


@dataclass(slots=True)
class TextNotice:
    """The payload of a notice: ready, already-escaped HTML."""

    text: str

    def to_json(self) -> Json:
        return {"text": self.text}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(str(data.get("text", "")))


@dataclass(slots=True)
class DecisionItem:
    """A report waiting for a coordinator's decision: 已完成 (kind completion) or 申请延期
    (kind extension, to `requested_to`)."""

    kind: str
    assignment_id: int
    plan_id: int
    plan: str
    ref: str
    unit: str
    requested_to: date | None = None
    since: datetime | None = None
    note: str = ""

    @property
    def identity(self) -> tuple[int, str]:
        return self.assignment_id, self.kind

    def to_json(self) -> Json:
        return {
            "kind": self.kind,
            "assignment_id": self.assignment_id,
            "plan_id": self.plan_id,
            "plan": self.plan,
            "ref": self.ref,
            "unit": self.unit,
            "requested_to": _iso(self.requested_to),
            "since": self.since.isoformat() if self.since else None,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            kind=str(data.get("kind") or "completion"),
            assignment_id=int(data["assignment_id"]),
            plan_id=int(data.get("plan_id") or 0),
            plan=str(data.get("plan") or ""),
            ref=str(data.get("ref") or ""),
            unit=str(data.get("unit") or ""),
            requested_to=_day(data.get("requested_to")),
            since=_instant(data.get("since")),
            note=str(data.get("note") or ""),
        )

    def to_lean(self) -> list[Any]:
        """[assignment id, kind, since, requested to, note], trailing defaults dropped: the
        plan, ref and unit are the ledger's when the notice is rendered."""
        values = [
            self.assignment_id,
            self.kind,
            self.since.isoformat() if self.since else None,
            _iso(self.requested_to),
            self.note,
        ]
        return _trimmed(values, (None, None, ""))

    @classmethod
    def from_lean(cls, values: list[Any]) -> Self:
        return cls(
            kind=str(values[1] or "completion"),
            assignment_id=int(values[0]),
            plan_id=0,
            plan="",
            ref="",
            unit="",
            requested_to=_day(_at(values, 3, None)),
            since=_instant(_at(values, 2, None)),
            note=str(_at(values, 4, "") or ""),
        )


@dataclass(slots=True)
class DecisionNotice:
    """The payload of a decision: the items (batched while the row waits for the sender)."""

    items: tuple[DecisionItem, ...]

    def to_json(self, *, lean: bool = False) -> Json:
        """`lean`: the items as `DecisionItem.to_lean` (as rows queued now store them)."""
        return {"items": [i.to_lean() if lean else i.to_json() for i in self.items]}

    @staticmethod
    def is_lean(data: Mapping[str, Any]) -> bool:
        """Stored with lean items (rows of earlier releases copy plan, ref and unit)."""
        return any(isinstance(i, list) for i in data.get("items") or ())

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            tuple(
                DecisionItem.from_lean(i) if isinstance(i, list) else DecisionItem.from_json(i)
                for i in data.get("items") or ()
            )
        )


# --- the liaison's brief (今日待办) ------------------------------------------------------------

# the brief's sections, most urgent first: overdue, due today, tomorrow, within 7 / 30 days,
# waiting for 签收, report requests of recurring duties
BRIEF_SECTIONS = ("od", "d0", "d1", "d7", "d30", "ack", "per")


@dataclass(slots=True)
class BriefItem:
    """One item of a brief: its most urgent stage of the rows the brief carries."""

    id: int  # assignment id
    ref: str
    title: str
    plan: str
    plan_title: str
    section: str  # one of BRIEF_SECTIONS
    days: int = 0  # od: days late · d*: days left · ack: working days · per: days to period end
    due: date | None = None
    acknowledged: bool = True
    escalated: bool = False  # od: a 督办 (its leaders and coordinators were told too)
    also: tuple[int, ...] = ()  # the item's other assignments (milestones) on this line

    def rank(self) -> tuple[int, int, str, str]:
        """Most urgent first: by section, then the latest overdue / the nearest due first."""
        order = BRIEF_SECTIONS.index(self.section) if self.section in BRIEF_SECTIONS else 9
        return (order, -self.days if self.section == "od" else self.days, self.plan, self.ref)

    def to_json(self) -> Json:
        """A reference to the item (id, ref, plan) and what the brief says of it; its title
        and its plan's title are read from the ledger when the brief is rendered (payloads
        of earlier releases carry them: read as they are)."""
        out: Json = {
            "id": self.id,
            "ref": self.ref,
            "plan": self.plan,
            "section": self.section,
            "days": self.days,
            "due": _iso(self.due),
        }
        if not self.acknowledged:
            out["ack"] = False
        if self.escalated:
            out["esc"] = True
        if self.also:
            out["also"] = list(self.also)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(
            id=int(data.get("id") or 0),
            ref=str(data.get("ref") or ""),
            title=str(data.get("title") or ""),
            plan=str(data.get("plan") or ""),
            plan_title=str(data.get("plan_title") or ""),
            section=str(data.get("section") or ""),
            days=int(data.get("days") or 0),
            due=_day(data.get("due")),
            acknowledged=bool(data.get("ack", True)),
            escalated=bool(data.get("esc", False)),
            also=tuple(int(i) for i in data.get("also") or ()),
        )

    def _due_by_days(self, on: date | None) -> date | None:
        """The due date the days say on the brief's date `on` (overdue: days late; due
        soon: days left); None for the other sections."""
        if self.section == "od":
            return _moved(on, -self.days)
        if self.section in ("d0", "d1", "d7", "d30"):
            return _moved(on, self.days)
        return None

    def to_lean(self, on: date | None) -> list[Any]:
        """The item as a planned brief stores it (`on`: its date): [id, section, days, flags,
        due, also], flags 1 not acknowledged + 2 a 督办, due 0 when the days say it,
        trailing defaults dropped. Ref, plan, title and plan title are the ledger's when
        the brief is rendered."""
        flags = (0 if self.acknowledged else 1) | (2 if self.escalated else 0)
        values = [
            self.id,
            self.section,
            self.days,
            flags,
            _lean_day(self.due, self._due_by_days(on)),
            list(self.also),
        ]
        return _trimmed(values, (0, 0, []))

    @classmethod
    def from_lean(cls, values: list[Any], on: date | None) -> Self:
        """The item `to_lean` stored (ref, plan and the titles empty: the ledger's)."""
        flags = int(_at(values, 3, 0))
        item = cls(
            id=int(values[0]),
            ref="",
            title="",
            plan="",
            plan_title="",
            section=str(values[1]),
            days=int(values[2] or 0),
            acknowledged=not flags & 1,
            escalated=bool(flags & 2),
            also=tuple(int(i) for i in _at(values, 5, ())),
        )
        item.due = _read_day(_at(values, 4, 0), item._due_by_days(on))
        return item


@dataclass(slots=True)
class BriefNotice:
    """The payload of a brief: the day, the items most urgent first, how many stages (Outbox
    rows) it carries, and `follow_up` (0: the morning brief; n: the n-th same-day notice)."""

    date: date | None
    items: tuple[BriefItem, ...]
    stages: int = 0
    follow_up: int = 0
    audience: str = Audience.LIAISONS
    lines: int = 20  # item lines the message lists (policy brief.max_lines); the rest counted

    def to_json(self, *, lean: bool = False) -> Json:
        """`lean`: the items as `BriefItem.to_lean` (as planned briefs store them)."""
        return {
            "date": _iso(self.date),
            "audience": self.audience,
            "stages": self.stages,
            "follow_up": self.follow_up,
            "lines": self.lines,
            "items": [i.to_lean(self.date) if lean else i.to_json() for i in self.items],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        on = _day(data.get("date"))
        return cls(
            date=on,
            items=tuple(
                BriefItem.from_lean(i, on) if isinstance(i, list) else BriefItem.from_json(i)
                for i in data.get("items") or ()
            ),
            stages=int(data.get("stages") or 0),
            follow_up=int(data.get("follow_up") or 0),
            audience=str(data.get("audience") or Audience.LIAISONS),
            lines=int(data.get("lines") or 20),
        )


Payload = ItemNotice | BatchNotice | DigestNotice | TextNotice | DecisionNotice | BriefNotice

# the one payload model of each kind (a marker row, status batched, carries a BatchMarker)
PAYLOADS: dict[OutboxKind, type[Payload]] = {
    OutboxKind.REMINDER: ItemNotice,
    OutboxKind.ACK_CHASE: ItemNotice,
    OutboxKind.OVERDUE: ItemNotice,
    OutboxKind.ESCALATION: ItemNotice,
    OutboxKind.PERIODIC: ItemNotice,
    OutboxKind.CHASE: ItemNotice,
    OutboxKind.ESCALATION_BATCH: BatchNotice,
    OutboxKind.OVERDUE_BATCH: BatchNotice,
    OutboxKind.DIGEST: DigestNotice,
    OutboxKind.NOTICE: TextNotice,
    OutboxKind.DECISION: DecisionNotice,
    OutboxKind.BRIEF: BriefNotice,
}


def read_payload(kind: str, data: Mapping[str, Any] | None) -> Payload:
    """The payload of a row of `kind`; LookupError for a kind nobody writes."""
    try:
        model = PAYLOADS[OutboxKind(kind)]
    except ValueError:
        raise LookupError(f"no payload model for outbox kind {kind!r}") from None
    return model.from_json(data or {})
