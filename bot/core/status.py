"""Status vocabulary and the transition rules of an assignment (pure).

A liaison reports 进行中 / 有困难 / 已完成 / 申请延期, acknowledges (签收) or adds a note; a
coordinator confirms (办结), returns (退回), approves or denies an extension. `apply` checks the
rule and returns a `Transition` describing the change; `bot.storage.history.record` writes it
and appends the history event. Nothing here reads the clock or the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, TypedDict

from bot.core.errors import CodedError

NOT_STARTED = "not_started"  # 未开始
IN_PROGRESS = "in_progress"  # 进行中
BLOCKED = "blocked"  # 有困难
DONE_REPORTED = "done_reported"  # 已完成, waiting for 办结
CLOSED = "closed"  # 办结

# A coordinator's reason (退回, a denied extension) is read by the unit in one message: at most
# this many characters, well under Telegram's 4096 with the notice around it.
MAX_REASON = 1000

STATUSES = (NOT_STARTED, IN_PROGRESS, BLOCKED, DONE_REPORTED, CLOSED)
OPEN_STATUSES = (NOT_STARTED, IN_PROGRESS, BLOCKED)


class Action(StrEnum):
    ACK = "ack"  # 签收
    PROGRESS = "progress"  # 进行中 [n%]
    BLOCKED = "blocked"  # 有困难
    DONE = "done"  # 已完成
    EXTEND = "extend"  # 申请延期 YYYY-MM-DD
    NOTE = "note"  # a reply with text / photo / document
    CONFIRM = "confirm"  # 办结
    RETURN = "return"  # 退回
    APPROVE = "approve"  # approve the extension
    DENY = "deny"  # deny the extension


LIAISON_ACTIONS = frozenset(
    {Action.ACK, Action.PROGRESS, Action.BLOCKED, Action.DONE, Action.EXTEND, Action.NOTE}
)
COORDINATOR_ACTIONS = frozenset({Action.CONFIRM, Action.RETURN, Action.APPROVE, Action.DENY})
REASONED_ACTIONS = frozenset({Action.RETURN, Action.DENY})  # the unit is told the reason

# the StatusEvent.kind each action writes
EVENT_KIND = {
    Action.ACK: "ack",
    Action.PROGRESS: "report",
    Action.BLOCKED: "report",
    Action.DONE: "report",
    Action.EXTEND: "extension_request",
    Action.NOTE: "note",
    Action.CONFIRM: "confirm",
    Action.RETURN: "return",
    Action.APPROVE: "extension_approve",
    Action.DENY: "extension_deny",
}


class TransitionError(CodedError):
    """The action is not allowed now. `code` names the rule; handlers translate it."""


@dataclass(frozen=True)
class Snapshot:
    """What the rules need to know about an assignment."""

    status: str
    due: date
    acknowledged: bool = False
    progress: int | None = None
    extension_requested_to: date | None = None
    # the last percentage the liaison reported while the work was under way (below 100),
    # what a 退回 goes back to
    progress_before_done: int | None = None


@dataclass(frozen=True)
class Transition:
    """The change to make. Fields left `None` are unchanged; `clear_extension` clears the
    pending request; `acknowledge` sets 签收 now if not yet set."""

    action: Action
    event_kind: str
    old_status: str
    new_status: str
    progress: int | None = None
    due_after: date | None = None
    extension_requested_to: date | None = None
    clear_extension: bool = False
    clear_progress: bool = False  # the progress becomes unknown (a 退回 with none before)
    acknowledge: bool = False
    is_report: bool = False  # counts as a report for the yellow "no recent report" rule
    params: dict[str, Any] = field(default_factory=dict)


class _Common(TypedDict):
    """The fields every Transition of one `apply` call shares."""

    action: Action
    event_kind: str
    old_status: str


# what a coordinator decides on (bot.services.pending, the pushed decision notices)
COMPLETION = "completion"  # 办结 / 退回 a reported completion
EXTENSION = "extension"  # 批准 / 驳回 an extension request

# the StatusEvent kinds that are a coordinator's decision
DECISION_EVENT_KINDS = ("confirm", "return", "extension_approve", "extension_deny")


def awaits_decision(kind: str, status: str, extension_requested_to: date | None) -> bool:
    """Whether a decision of `kind` (COMPLETION or EXTENSION) is still waiting on an
    assignment in this state: a completion while it is reported done, an extension while a
    request stands on an item not closed."""
    if kind == EXTENSION:
        return extension_requested_to is not None and status != CLOSED
    return status == DONE_REPORTED


def decision_kind(action: str) -> str:
    """The decision an act answers: 办结 / 退回 a completion, approve / deny an extension."""
    return EXTENSION if action in (Action.APPROVE, Action.DENY) else COMPLETION


def check_reason_length(action: str, reason: str) -> None:
    """The reason of a 退回 or a denial is at most MAX_REASON characters (TransitionError
    reason_too_long); other actions carry none. Callers check it before anything else, so the
    coordinator hears it first and nothing changes."""
    length = len(reason.strip())
    if action in REASONED_ACTIONS and length > MAX_REASON:
        raise TransitionError("reason_too_long", length=length, limit=MAX_REASON)


def apply(
    snap: Snapshot,
    action: Action,
    *,
    by: str,
    today: date,
    progress: int | None = None,
    new_due: date | None = None,
    reason: str = "",
) -> Transition:
    """Check `action` by a `by` ("liaison" | "coordinator") against the rules, return the change.

    Raises TransitionError with codes: wrong_role, closed, progress_range, waiting_confirmation,
    extension_date_required, extension_date_past, extension_not_later, extension_pending,
    not_done_reported, no_extension_request, reason_required, reason_too_long (checked first:
    the reason of a 退回 or a denial is at most MAX_REASON characters).
    """
    if by == "liaison" and action not in LIAISON_ACTIONS:
        raise TransitionError("wrong_role", action=str(action))
    if by == "coordinator" and action not in COORDINATOR_ACTIONS:
        raise TransitionError("wrong_role", action=str(action))
    check_reason_length(action, reason)
    if snap.status == CLOSED and action is not Action.NOTE:
        raise TransitionError("closed")
    if progress is not None and not 0 <= progress <= 100:
        raise TransitionError("progress_range", progress=f"{progress}%")

    base: _Common = {"action": action, "event_kind": EVENT_KIND[action], "old_status": snap.status}
    # any liaison action proves the item reached the unit: it counts as 签收
    ack = by == "liaison" and not snap.acknowledged

    if action is Action.ACK:
        return Transition(**base, new_status=snap.status, acknowledge=True)
    if action is Action.NOTE:
        return Transition(**base, new_status=snap.status, acknowledge=ack, is_report=True)
    if action in (Action.PROGRESS, Action.BLOCKED):
        new = IN_PROGRESS if action is Action.PROGRESS else BLOCKED
        if progress == 100 and action is Action.PROGRESS:
            new = DONE_REPORTED
        return Transition(
            **base, new_status=new, progress=progress, acknowledge=ack, is_report=True
        )
    if action is Action.DONE:
        if snap.status == DONE_REPORTED:
            raise TransitionError("waiting_confirmation")
        return Transition(
            **base, new_status=DONE_REPORTED, progress=100, acknowledge=ack, is_report=True
        )
    if action is Action.EXTEND:
        if snap.status == DONE_REPORTED:
            raise TransitionError("waiting_confirmation")
        if new_due is None:
            raise TransitionError("extension_date_required")
        if new_due <= today:
            raise TransitionError("extension_date_past", date=new_due)
        if new_due <= snap.due:
            raise TransitionError("extension_not_later", date=new_due, due=snap.due)
        return Transition(
            **base,
            new_status=snap.status,
            extension_requested_to=new_due,
            acknowledge=ack,
            is_report=True,
        )
    if action is Action.CONFIRM:
        if snap.status != DONE_REPORTED:
            raise TransitionError("not_done_reported")
        return Transition(**base, new_status=CLOSED, progress=100, clear_extension=True)
    if action is Action.RETURN:
        if snap.status != DONE_REPORTED:
            raise TransitionError("not_done_reported")
        if not reason.strip():
            raise TransitionError("reason_required")
        # the work is not finished: 100% would contradict the status; go back to the last
        # percentage the liaison gave while working on it, or to none if they never gave one
        before = snap.progress_before_done
        return Transition(
            **base, new_status=IN_PROGRESS, progress=before, clear_progress=before is None
        )
    if action is Action.APPROVE:
        if snap.extension_requested_to is None:
            raise TransitionError("no_extension_request")
        return Transition(
            **base,
            new_status=snap.status,
            due_after=snap.extension_requested_to,
            clear_extension=True,
        )
    if action is Action.DENY:
        if snap.extension_requested_to is None:
            raise TransitionError("no_extension_request")
        if not reason.strip():
            raise TransitionError("reason_required")
        return Transition(**base, new_status=snap.status, clear_extension=True)
    raise TransitionError("wrong_role", action=str(action))  # pragma: no cover
