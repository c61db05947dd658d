"""Callback data factories of the liaison side. Each packs ids, never refs, well under
Telegram's 64 bytes (bot.telegram.limits.MAX_CALLBACK). Prefixes are short and unique across
the bot: `as` assignment actions, `ao` open an assignment's card, `my` /my pages. (The
reminders' snooze button and the coordinator's buttons use prefixes of their own.)
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

# action codes on the wire → bot.core.status.Action values
ACTION_CODES = {
    "p": "progress",
    "d": "done",
    "b": "blocked",
    "x": "extend",
    "k": "ack",
}


class AssignmentAction(CallbackData, prefix="as"):
    """A status button on a message about one assignment."""

    code: str  # one of ACTION_CODES
    assignment_id: int


class OpenAssignment(CallbackData, prefix="ao"):
    """Open the card of one assignment (from a /my list)."""

    assignment_id: int


class MyPage(CallbackData, prefix="my"):
    page: int


class InvitePick(CallbackData, prefix="iv"):
    """The coordinator picks one unit of an ambiguous /invite (e.g. 市卫健委 of two cities)."""

    role: str  # liaison | leader
    unit_id: int
    name: str = ""  # the invitee's name when it fits the 64 bytes, else empty


def invite_pick(role: str, unit_id: int, name: str) -> InvitePick | None:
    """The callback for one candidate, or None when even the bare ids do not fit."""
    name = name.replace(":", " ").strip()
    for candidate in (name, ""):
        data = InvitePick(role=role, unit_id=unit_id, name=candidate)
        if len(data.pack().encode()) <= 64:
            return data
    return None


class OpenTask(CallbackData, prefix="ot"):
    """Open an item's card as /task REF does (from a /find list); `expand`: with every
    co-operating unit listed."""

    task_id: int
    expand: bool = False


class FindPage(CallbackData, prefix="fd"):
    """A page of /find results; `q` is the folded query, when it fits the 64 bytes."""

    page: int
    q: str


class BriefGroup(CallbackData, prefix="bg"):
    """A page of one section of a liaison's brief (`brief`: its Outbox row id); `e`: edit the
    message in place (a page turn) instead of sending a new one."""

    brief: int
    s: str  # section (bot.core.notices.BRIEF_SECTIONS)
    p: int = 0
    e: bool = False


class BriefAck(CallbackData, prefix="ba"):
    """全部签收: acknowledge every item of the brief that waits for it."""

    brief: int


class OpenEvidence(CallbackData, prefix="ev"):
    """Send an item's evidence again (photos and files, by their Telegram file_id)."""

    task_id: int
