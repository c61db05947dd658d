"""The buttons of a liaison's brief (今日待办, `bot.telegram.notices.brief`): a section's items
page by page (each with a button opening the item's card, as /my's do), and 全部签收, which
records 签收 on every item of the brief that waits for it, commits, then says how many."""

from __future__ import annotations

import contextlib

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.clock import Clock
from bot.config import Settings
from bot.core.brief import assignment_ids, sections, to_acknowledge
from bot.core.notices import BriefItem, BriefNotice, OutboxKind
from bot.core.roles import Roles
from bot.services.briefs import acknowledge_all
from bot.storage.models import Outbox, Person
from bot.storage.outbox.delivery import as_rendered
from bot.telegram.callbacks import BriefAck, BriefGroup, OpenAssignment
from bot.telegram.common import moment, tell_after_commit
from bot.telegram.filters import IsRegistered
from bot.telegram.notices.brief import ICONS, item_line, section_label
from bot.telegram.render import esc

PAGE = 10  # items per page of a section


async def _brief(session, callback: CallbackQuery, row_id: int) -> BriefNotice | None:
    """The brief the button belongs to, if it went to this chat."""
    row = await session.get(Outbox, row_id)
    chat_id = callback.message.chat.id if callback.message else callback.from_user.id
    if row is None or row.kind != OutboxKind.BRIEF or row.chat_id != chat_id:
        return None
    # its items' titles as the ledger has them (a brief refers to its items)
    return BriefNotice.from_json((await as_rendered(session, row)).payload or {})


def group_page(
    row_id: int, section: str, found: list[BriefItem], page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    pages = max(1, -(-len(found) // PAGE))
    page = min(max(page, 0), pages - 1)
    shown = found[page * PAGE : (page + 1) * PAGE]
    head = f"{ICONS.get(section, '•')} <b>{esc(section_label(section, locale))}</b> ({len(found)})"
    if pages > 1:
        head += f" · {page + 1}/{pages}"
    lines = [head, ""]
    lines += [f"{page * PAGE + k}. {item_line(i, locale)}" for k, i in enumerate(shown, 1)]
    buttons = [
        InlineKeyboardButton(text=i.ref, callback_data=OpenAssignment(assignment_id=i.id).pack())
        for i in shown
    ]
    rows = [buttons[k : k + 3] for k in range(0, len(buttons), 3)]
    nav = []
    if page > 0:
        data = BriefGroup(brief=row_id, s=section, p=page - 1, e=True).pack()
        nav.append(InlineKeyboardButton(text="◀", callback_data=data))
    if page < pages - 1:
        data = BriefGroup(brief=row_id, s=section, p=page + 1, e=True).pack()
        nav.append(InlineKeyboardButton(text="▶", callback_data=data))
    if nav:
        rows.append(nav)
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def open_group(
    callback: CallbackQuery, callback_data: BriefGroup, bot: Bot, session, locale: str
) -> None:
    notice = await _brief(session, callback, callback_data.brief)
    found = sections(notice.items).get(callback_data.s, []) if notice else []
    if not found:
        await callback.answer(_("This list is no longer available."), show_alert=True)
        return
    text, keyboard = group_page(
        callback_data.brief, callback_data.s, found, callback_data.p, locale
    )
    if callback_data.e and callback.message is not None:
        with contextlib.suppress(TelegramBadRequest):  # "message is not modified"
            await callback.message.edit_text(text, reply_markup=keyboard)  # type: ignore[union-attr]
    else:
        chat_id = callback.message.chat.id if callback.message else callback.from_user.id
        await bot.send_message(chat_id, text, reply_markup=keyboard)
    await callback.answer()


async def acknowledge_everything(
    callback: CallbackQuery,
    callback_data: BriefAck,
    bot: Bot,
    session,
    settings: Settings,
    clock: Clock,
    person: Person,
    roles: Roles,
    locale: str,
) -> None:
    notice = await _brief(session, callback, callback_data.brief)
    if notice is None:
        await callback.answer(_("This list is no longer available."), show_alert=True)
        return
    m = moment(settings, clock)
    outcome = await acknowledge_all(
        session,
        assignment_ids(to_acknowledge(notice.items)),
        person=person,
        roles=roles,
        at=m.now,
        today=m.today,
        policy=m.policy,
    )
    await session.commit()  # recorded before anybody is told so
    n = len(set(outcome.acknowledged))  # items (refs); an item's milestones count once
    text = ngettext("Acknowledged %(n)s item.", "Acknowledged %(n)s items.", n) % {"n": n}
    if outcome.already:
        text += " " + ngettext(
            "%(n)s was acknowledged already.", "%(n)s were acknowledged already.", outcome.already
        ) % {"n": outcome.already}
    if outcome.skipped:
        text += " " + ngettext(
            "%(n)s could not be acknowledged (not your unit, or closed).",
            "%(n)s could not be acknowledged (not your unit, or closed).",
            outcome.skipped,
        ) % {"n": outcome.skipped}
    await tell_after_commit(callback.answer(text), what="全部签收: button answer")
    chat_id = callback.message.chat.id if callback.message else callback.from_user.id
    lines = [esc(text)]
    if outcome.acknowledged:
        lines.append(esc(", ".join(outcome.acknowledged[:60])) + (" …" if n > 60 else ""))
    await tell_after_commit(
        bot.send_message(chat_id, "\n".join(lines)), what="全部签收: acknowledgement"
    )


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.callback_query.filter(IsRegistered())
    router.callback_query.register(open_group, BriefGroup.filter())
    router.callback_query.register(acknowledge_everything, BriefAck.filter())
