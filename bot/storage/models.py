"""SQLModel tables. Timestamps are timezone-aware UTC; calendar dates (due dates) are `date`.

The ledger: Plan 1-n Task (kind task / project / indicator) 1-n Milestone 1-n Assignment
(one milestone for one unit). Every change of an assignment appends a StatusEvent; events are
never updated or deleted. Items that disappear from a re-loaded plan are archived
(`archived_at`), never deleted, so their history stays readable.

Alembic migrations in `bot/storage/migrations` must match this metadata (a test checks).
Telegram ids (users, chats) are BIGINT: group and channel ids pass 2³¹ (PostgreSQL enforces it).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    LargeBinary,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from bot.core.status import (  # noqa: F401  the one status vocabulary, re-exported
    BLOCKED,
    CLOSED,
    DONE_REPORTED,
    IN_PROGRESS,
    NOT_STARTED,
)

# The rows not archived: the ledger's covering indexes hold only these (partial indexes), so
# that archiving a row (a withdrawn plan, an item gone from a reload) removes its entries
# instead of rewriting them with a longer key, and archived rows take no index space.
ACTIVE = text("archived_at IS NULL")
CLOSED_ACTIVE = text(f"archived_at IS NULL AND status = '{CLOSED}'")

ROLE_COORDINATOR = "coordinator"
ROLE_LIAISON = "liaison"
ROLE_LEADER = "leader"


class Plan(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True)  # e.g. "SR"; the prefix of every ref
    title: str
    issuer: str = ""
    issued: date | None = None
    period_start: date
    period_end: date
    source: str = ""  # file it was imported from
    content_hash: str = ""  # of the YAML last loaded; unchanged hash → nothing to do
    loaded_at: datetime
    archived_at: datetime | None = None


class Unit(SQLModel, table=True):
    """A responsible unit, by canonical name (aliases live in tasks_data/units.yaml)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)  # canonical, qualified: "上饶市卫生健康委员会"
    short_name: str = ""  # how plans usually write it: "市卫健委"
    jurisdiction: str = ""  # "上饶市"; aliases resolve within a plan's jurisdiction
    level: str = ""  # 市直 / 县级 / 乡镇 / 企业 / 其他
    is_group: bool = False  # "12+3"人民政府（管委会）: expands to members, never assigned
    known: bool = True  # False: kept as written, not in the unit directory


class Task(SQLModel, table=True):
    """A ledger item: a key task, a key project or an indicator of a plan."""

    __table_args__ = (UniqueConstraint("plan_id", "ref"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id")  # indexed by the (plan_id, ref) constraint
    ref: str = Field(index=True)  # "SR-12", globally unique in practice (plan code prefix)
    kind: str = "task"  # task | project | indicator
    number: str = ""
    section: str = ""
    title: str
    text: str = ""
    recurrence: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    task_ref: str | None = None  # a key project's task
    position: int = 0  # order in the plan
    # indicator fields
    domain: str = ""
    measure_unit: str = ""
    baseline: str = ""
    target: str = ""
    nature: str = ""
    binding: bool = False
    archived_at: datetime | None = None


class Milestone(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("task_id", "seq"),
        # 按时办结率 (bot.services.stats_sql): the milestones not yet originally due
        Index("ix_milestone_original_due", "original_due"),
        # the lights' window start: the previous milestone's due date, from the index alone
        Index("ix_milestone_window", "task_id", "seq", "archived_at", "due"),
    )

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id")  # indexed by the (task_id, seq) constraint
    seq: int = 0  # order within the task, stable key with task_id
    due: date  # as the plan currently says
    original_due: date  # as first loaded: on-time statistics keep it
    # The start of the lights' window (bot.core.lights): the latest due date of the active
    # milestones before this one in its item, else the plan's first day. Kept by the loader
    # (bot.storage.loader) on every load; NULL: computed by the query instead.
    window_start: date | None = None
    phrase: str = ""
    target: str = ""
    archived_at: datetime | None = None


class Assignment(SQLModel, table=True):
    """One milestone for one unit: what a liaison answers for and what is red/yellow/green."""

    __table_args__ = (
        UniqueConstraint("milestone_id", "unit_id"),  # also the index of milestone_id
        # Covering indexes of the /status aggregates (bot.services.stats_sql), partial
        # (ACTIVE: the rows not archived, which is what those queries read; archived_at stays
        # a column so that SQLite sees they cover the query: SQLite before 3.41 takes no column
        # from a partial index's WHERE). Equality on the leading columns makes seeks of what
        # would be tests of every row. Counts per unit and status, and the past-due ones:
        Index(
            "ix_assignment_ledger",
            "unit_id",
            "status",
            "archived_at",
            "due",
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        ),
        # A walk by due date: the most overdue first, the past-due counts, and the lights of
        # the open items not yet due (a range from today). last_report_at, which the lights
        # read only for the items due within a few days, is read from the table for those
        # (it was 26 bytes of most entries).
        Index(
            "ix_assignment_due",
            "due",
            "status",
            "archived_at",
            "progress",
            "acknowledged_at",
            "milestone_id",
            "unit_id",
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        ),
        # 按时办结率, the closed items against their milestone's original due date (in the
        # order of the milestones: consecutive lookups of the same page are cheaper); only
        # the closed rows are in it.
        Index(
            "ix_assignment_closed",
            "status",
            "archived_at",
            "milestone_id",
            "done_reported_at",
            "closed_at",
            sqlite_where=CLOSED_ACTIVE,
            postgresql_where=CLOSED_ACTIVE,
        ),
        # 及时签收率 (range counts by instant of assignment). With `archived_at` leading
        # instead, SQLite's planner (no statistics) would prefer it for every query of the rows
        # not archived.
        Index(
            "ix_assignment_ack",
            "assigned_at",
            "acknowledged_at",
            "archived_at",
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        ),
        # 按时办结率, the items of the milestones not yet originally due (less the closed
        # ones, counted from ix_assignment_closed):
        Index(
            "ix_assignment_ontime",
            "milestone_id",
            "archived_at",
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        ),
        # the scheduler's tick: the rows whose next instant has come (a range), and those
        # to recompute (NULL)
        Index("ix_assignment_next_at", "next_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    milestone_id: int = Field(foreign_key="milestone.id")  # indexed by the unique constraint
    # unit_id keeps a single-column index of every row (archived ones too): the covering index
    # above that leads with it is partial, and some lookups by unit read archived rows as well
    unit_id: int = Field(foreign_key="unit.id", index=True)
    role: str = "lead"  # lead | co
    status: str = NOT_STARTED
    progress: int | None = None  # percent, when reported
    due: date  # effective due date: the milestone's, or an approved extension
    extension_requested_to: date | None = None  # pending 申请延期
    assigned_at: datetime  # when the unit got it (acknowledgement ladder counts from here)
    acknowledged_at: datetime | None = None  # 签收
    last_report_at: datetime | None = None
    done_reported_at: datetime | None = None
    closed_at: datetime | None = None
    archived_at: datetime | None = None
    # When the scheduler's tick must look at this assignment again (bot.storage.next_at): the
    # next stage trigger of its ladders; NULL: recompute at the next tick (new, changed or
    # restored rows); far in the future: nothing can be due until it changes.
    next_at: datetime | None = None


class ScheduleState(SQLModel, table=True):
    """What the next instants were computed with (the policy's fingerprint): a different
    policy at start-up makes every assignment's next instant recomputed."""

    name: str = Field(primary_key=True)
    value: str = ""


class StatusEvent(SQLModel, table=True):
    """Append-only history of an assignment: who, when, what changed, note, evidence."""

    __table_args__ = (
        # a person's latest event (bot.services.continuation); the events of nobody (the
        # loader's, the system's) are most of the table and need no entry
        Index(
            "ix_statusevent_actor",
            "actor_id",
            "at",
            sqlite_where=text("actor_id IS NOT NULL"),
            postgresql_where=text("actor_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    at: datetime
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    actor_label: str = ""  # "system", "import", or the person's name at the time
    # report | note | ack | confirm | return | extension_request | extension_approve |
    # extension_deny | remind | archive | restore | due_change | undo; "import" (an assignment
    # created by a load) only in databases loaded before the load became the plan's PlanEvent
    kind: str
    old_status: str | None = None
    new_status: str | None = None
    progress: int | None = None
    note: str = ""
    evidence_kind: str | None = None  # photo | document
    evidence_file_id: str | None = None
    evidence_name: str | None = None
    due_before: date | None = None
    due_after: date | None = None


class PlanEvent(SQLModel, table=True):
    """A plan's own history (bot.storage.plan_history): each load of its file, with the number
    of assignments it created (their `assigned_at` is its instant), and each withdrawal (撤回)
    or restore as a whole (bot.storage.withdraw), with the number of assignments archived or
    brought back. One row per act: the assignments keep their own history; the ones a
    withdrawal archived carry its instant as their `archived_at`."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    at: datetime
    kind: str  # load | withdraw | restore
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    actor_label: str = ""  # "system", "import", "cli", or the person's name at the time
    note: str = ""
    assignments: int = 0


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int | None = Field(default=None, index=True, unique=True, sa_type=BigInteger)
    name: str = ""
    username: str = ""
    locale: str | None = None  # None: the deployment's default
    active: bool = True  # False once Telegram says the bot is blocked
    created_at: datetime


# Membership.source: where a role came from
SOURCE_ADMIN = "admin"  # ADMIN_IDS, which alone ends it (at start-up)
SOURCE_INVITE = "invite"
SOURCE_CLI = "cli"  # `python -m bot people add-admin`
SOURCE_LOCAL = "local"  # local mode's people


class Membership(SQLModel, table=True):
    """A person's role: coordinator (all plans or one), liaison (of a unit), leader (of a unit
    or a plan). Ended memberships stay for the record: `revoked_at`, and who ended it."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    plan_id: int | None = Field(default=None, foreign_key="plan.id")
    created_at: datetime
    revoked_at: datetime | None = None
    source: str = Field(default="", sa_column_kwargs={"server_default": ""})  # SOURCE_*; "" older
    revoked_by: int | None = Field(default=None, foreign_key="person.id")  # None: not a person
    revoke_note: str = Field(default="", sa_column_kwargs={"server_default": ""})  # how it ended


class Invite(SQLModel, table=True):
    """A one-time deep link `/start TOKEN`."""

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(index=True, unique=True)
    role: str
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    plan_id: int | None = Field(default=None, foreign_key="plan.id")
    name: str = ""
    created_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime
    expires_at: datetime
    used_by: int | None = Field(default=None, foreign_key="person.id")
    used_at: datetime | None = None
    revoked_at: datetime | None = None


class ChatSubscription(SQLModel, table=True):
    """A group chat that receives the weekly digest (`/subscribe` in the group)."""

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(index=True, unique=True, sa_type=BigInteger)  # groups pass 2³¹
    title: str = ""
    locale: str | None = None
    plan_id: int | None = Field(default=None, foreign_key="plan.id")
    created_at: datetime
    active: bool = True


class Outbox(SQLModel, table=True):
    """A notification to deliver. `key` is the idempotency key (e.g. "remind:42:d7"): planning
    the same stage twice inserts nothing. The sender marks rows sent with the message id."""

    __table_args__ = (
        # the rows waiting (status) since an instant (not_before) without reading the rows: both
        # columns come after `payload`, so a filter on them read from the row walks the overflow
        # pages of every big brief (4.8 MiB of page cache, 6 ms, each tick after a write at
        # 100k); it also serves every query by status alone
        Index("ix_outbox_status_not_before", "status", "not_before"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True, unique=True)
    kind: str  # reminder | ack_chase | overdue | escalation | digest | notice | periodic
    chat_id: int = Field(index=True, sa_type=BigInteger)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    assignment_id: int | None = Field(default=None, foreign_key="assignment.id", index=True)
    stage: str = ""
    locale: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime
    not_before: datetime = Field(index=True)
    # pending | sending (claimed by the sender; left so by a crash → retried) | sent |
    # failed (recipient unreachable: 403) | dead (Telegram refused the message: 400)
    status: str = "pending"
    attempts: int = 0
    last_error: str = ""
    sent_at: datetime | None = None
    message_id: int | None = None  # of the first part
    # added by the sender (bot/telegram/delivery/sender.py): resumable multi-part messages
    parts_sent: int = 0  # parts Telegram accepted and that are committed
    # a multi-part message's parts frozen at its first render, so a resume continues the same
    # text: [{"text": ..., "reply_markup": {...} | None, "assignment_id": ... | None}, ...]
    parts: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # the claim of a `sending` row (bot.storage.outbox.delivery.claim): which instance sends it
    # and until when (real UTC); a claimer that dies leaves a lease that expires, and the row
    # is claimed again after it
    claimed_by: str | None = None
    lease_until: datetime | None = None
    # the key of the brief (kind brief) that carries this row to its liaison (status briefed,
    # then sent with the brief; bot.services.briefs)
    via: str | None = Field(default=None, index=True)


class StageMark(SQLModel, table=True):
    """A stage that went into 督办汇总 or 逾期事项清单 with no per-item Outbox row to show it
    was planned (no liaison bound, the acknowledgement escalation that only goes to leaders, or
    a liaison who got it in a list): the planner's bookkeeping, never sent. Keyed by the
    notification's parts (its key is f"{kind}:{assignment_id}:{stage}"); `liaisons` the
    people who got it in a list (person ids; names in marks of earlier releases), the chase
    history counts them. Earlier releases kept these as Outbox rows (status batched, chat 0;
    migration 0013), then with a text key and their summaries' keys (until migration 0016)."""

    # SQLite: the rows are the primary key's b-tree (no rowid table beside it)
    __table_args__ = {"sqlite_with_rowid": False}

    assignment_id: int = Field(foreign_key="assignment.id", primary_key=True)
    kind: str = Field(primary_key=True)
    stage: str = Field(primary_key=True)
    liaisons: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime

    @property
    def key(self) -> str:
        """The notification key the mark stands for."""
        return f"{self.kind}:{self.assignment_id}:{self.stage}"


class SentMessage(SQLModel, table=True):
    """A bot message about an assignment, so that replies and button presses on it reach it."""

    __table_args__ = (UniqueConstraint("chat_id", "message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(index=True, sa_type=BigInteger)
    message_id: int
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    kind: str = ""  # reminder | task | my | escalation | …
    sent_at: datetime


class InstanceLock(SQLModel, table=True):
    """A lease on a job that must run in one process per database (`sender`: planning and
    sending the Outbox). Taken, renewed and released by conditional UPDATEs
    (bot.storage.lease); it expires unless its holder renews it."""

    __tablename__ = "instance_lock"

    name: str = Field(primary_key=True)  # the job: "sender"
    holder: str | None = None  # "host:pid:random" of the process holding it; None: free
    acquired_at: datetime | None = None
    heartbeat_at: datetime | None = None  # the holder's last renewal (real UTC)
    expires_at: datetime | None = None  # free for the taking after this (real UTC)


class PendingImport(SQLModel, table=True):
    """A plan upload under review in the chat (bot.services.import_review), from `/import` to
    confirm or cancel: the file, the options the coordinator chose and the last parse. Kept in
    the database so that a restart or another instance can continue the review."""

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(index=True, unique=True)  # short, random: carried by the buttons
    owner: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))  # Telegram id
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    file_name: str = ""
    data: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    # bot.services.plan_upload.ImportOptions as a dict: code, year, default_unit, replace
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    plan: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    awaiting: str = ""  # file | year | unit | code: what the owner's next plain text answers
    version: int = 0  # bumped by every summary; the buttons of an older one are refused
    message_id: int | None = None  # the latest summary (or question) the bot sent
    summary_id: int | None = None  # the latest summary: an older one loses its buttons
    created_at: datetime
    updated_at: datetime


class ReplyReading(SQLModel, table=True):
    """A liaison's free-text reply as the bot read it (bot.core.replies): the question asked
    when the reading was ambiguous (`state` asking), or what was recorded from it, with the
    assignments' state before, so that 撤销 can restore it (`recorded`, then `undone`). Lives in
    the database so that any instance, after a restart, can take the answer or the undo."""

    __tablename__ = "reply_reading"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))  # Telegram ids pass 2³¹
    text: str  # the whole reply: it is kept as the note of what gets recorded
    # [{ref, assignment_id, candidates: [{status, percent, date}], ambiguous, choice}]
    readings: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # [{assignment_id, event_id, before: {status, progress, …}}] once recorded
    entries: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # a photo or file sent with the reply as its caption: {evidence_kind, evidence_file_id, …}
    evidence: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    state: str = "asking"  # asking → recording → recorded → undone
    created_at: datetime
    resolved_at: datetime | None = None


class FsmState(SQLModel, table=True):
    """aiogram's conversation state between two updates (e.g. /pending waiting for the reason
    of a 退回), kept in the database (bot.telegram.fsm_storage) so that the next update may
    reach another instance, or this one after a restart."""

    __tablename__ = "fsm_state"

    key: str = Field(primary_key=True)  # bot:chat:user:thread:business:destiny
    state: str | None = None
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime


class ChatSetting(SQLModel, table=True):
    """A group chat's own settings: its language (`/lang` in the group, by a coordinator).
    Everything the bot writes to the group — the digest, notices, answers there — uses it
    instead of the language of whoever subscribed or asked."""

    __tablename__ = "chat_setting"

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    locale: str
    set_by: int | None = Field(default=None, foreign_key="person.id")
    set_at: datetime
