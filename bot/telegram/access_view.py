"""What `/revoke_access` shows: the buttons to choose a person, the confirmation, the outcome.

Callback data carry membership and unit ids only (well under 64 bytes); the handler checks
them against the coordinator's scope again, since a client can send any ids.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import gettext, ngettext
from bot.services.access import Ended
from bot.services.members import Member
from bot.telegram.render import esc

PAGE_SIZE = 10


class AccessList(CallbackData, prefix="ra"):
    """A page of the people the coordinator may remove (of one unit or plan, or all)."""

    unit_id: int = 0
    plan_id: int = 0
    page: int = 0


class AccessPick(CallbackData, prefix="rk"):
    """Ask to confirm the end of one membership."""

    membership_id: int


class AccessConfirm(CallbackData, prefix="ry"):
    membership_id: int


class AccessCancel(CallbackData, prefix="rn"):
    membership_id: int = 0


def role_phrase(m: Member, *, locale: str) -> str:
    """ "liaison of 上饶市卫生健康委员会", "coordinator of all plans"…"""
    unit, plan = esc(m.unit_name), esc(m.plan_code)
    if m.role == "liaison":
        return gettext("liaison of %(unit)s", locale=locale) % {"unit": unit}
    if m.role == "leader":
        if m.unit_id is not None:
            return gettext("leader of %(unit)s", locale=locale) % {"unit": unit}
        return gettext("leader of plan %(plan)s", locale=locale) % {"plan": plan}
    if m.plan_id is not None:
        return gettext("coordinator of plan %(plan)s", locale=locale) % {"plan": plan}
    return gettext("coordinator of all plans", locale=locale)


def _who(m: Member) -> str:
    return m.name or str(m.telegram_id or "?")


def usage(locale: str) -> str:
    return gettext(
        "Usage: /revoke_access UNIT [NAME], /revoke_access PLAN [NAME] or /revoke_access NAME; "
        "alone, it lists everyone you can remove.",
        locale=locale,
    )


def list_text(
    members: list[Member], *, where: str, page: int, pages: bool = True, locale: str
) -> str:
    count = max(1, -(-len(members) // PAGE_SIZE))
    head = (
        gettext("Whose access should end in %(where)s? Pick a person:", locale=locale)
        % {"where": esc(where)}
        if where
        else gettext("Whose access should end? Pick a person:", locale=locale)
    )
    lines = [head]
    if count > 1 and pages:
        lines.append(
            gettext("Page %(page)s of %(pages)s.", locale=locale)
            % {"page": min(max(page, 0), count - 1) + 1, "pages": count}
        )
    elif count > 1:
        lines.append(
            gettext(
                "The first %(shown)s of %(n)s: name a unit to narrow, /revoke_access UNIT NAME.",
                locale=locale,
            )
            % {"shown": PAGE_SIZE, "n": len(members)}
        )
    return "\n".join(lines)


def list_keyboard(
    members: list[Member],
    *,
    page: int,
    unit_id: int | None,
    plan_id: int | None,
    pages: bool = True,
    locale: str,
) -> InlineKeyboardMarkup:
    """One button per membership of the page; with `pages`, ◀ ▶ between pages (a list of a
    unit, a plan or everyone; a name search shows its first page only)."""
    count = max(1, -(-len(members) // PAGE_SIZE)) if pages else 1
    page = min(max(page, 0), count - 1)
    rows = [
        [
            InlineKeyboardButton(
                text=f"{_who(m)} · {role_phrase(m, locale=locale)}",
                callback_data=AccessPick(membership_id=m.membership_id).pack(),
            )
        ]
        for m in members[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    ]
    nav = []
    for target, label in ((page - 1, "◀"), (page + 1, "▶")):
        if 0 <= target < count:
            data = AccessList(unit_id=unit_id or 0, plan_id=plan_id or 0, page=target)
            nav.append(InlineKeyboardButton(text=label, callback_data=data.pack()))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def private_only(locale: str) -> str:
    return gettext("Send /revoke_access to me in a private chat.", locale=locale)


def units_text(locale: str) -> str:
    return gettext("Several units have that name. Which one?", locale=locale)


def units_keyboard(units: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=name, callback_data=AccessList(unit_id=uid).pack())]
            for uid, name in units
        ]
    )


def confirm_text(m: Member, *, locale: str) -> str:
    return gettext(
        "End the access of %(name)s as %(role)s? They will no longer receive this role's "
        "messages or use its commands. The record of what they did stays.",
        locale=locale,
    ) % {"name": esc(_who(m)), "role": role_phrase(m, locale=locale)}


def confirm_keyboard(m: Member, *, locale: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=gettext("Remove access", locale=locale),
                    callback_data=AccessConfirm(membership_id=m.membership_id).pack(),
                ),
                InlineKeyboardButton(
                    text=gettext("Cancel", locale=locale),
                    callback_data=AccessCancel(membership_id=m.membership_id).pack(),
                ),
            ]
        ]
    )


def ended_text(ended: Ended, *, locale: str) -> str:
    m = ended.member
    lines = [
        gettext("✅ %(name)s is no longer %(role)s.", locale=locale)
        % {"name": esc(_who(m)), "role": role_phrase(m, locale=locale)}
    ]
    if not ended.still_registered:
        lines.append(
            gettext(
                "They have no other role: if they write to the bot, they only get the note on "
                "how to get access.",
                locale=locale,
            )
        )
    if ended.pending_invites:
        lines.append(
            ngettext(
                "%(n)s invitation they created still works; withdraw it with /revoke TOKEN.",
                "%(n)s invitations they created still work; withdraw them with /revoke TOKEN.",
                ended.pending_invites,
                locale=locale,
            )
            % {"n": ended.pending_invites}
        )
    return "\n".join(lines)


def cancelled_text(locale: str) -> str:
    return gettext("Cancelled: nothing changed.", locale=locale)
