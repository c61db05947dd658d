"""Inline keyboards. Labels are translated with an explicit locale, so the scheduler can build
the same keyboard for a reminder outside any update."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core.lights import LIGHT_EMOJI
from bot.i18n import gettext
from bot.telegram.callbacks import AssignmentAction, MyPage, OpenAssignment


def status_button_labels(locale: str) -> dict[str, str]:
    """Action code → button label in `locale` (进行中 / 已完成 / 有困难 / 申请延期 / 签收)."""
    return {
        "p": gettext("In progress", locale=locale),
        "d": gettext("Done", locale=locale),
        "b": gettext("Blocked", locale=locale),
        "x": gettext("Request extension", locale=locale),
        "k": gettext("Acknowledge", locale=locale),
    }


def assignment_keyboard(
    assignment_id: int, *, acknowledged: bool, locale: str, snooze: bool = False
) -> InlineKeyboardMarkup:
    """进行中 / 已完成 / 有困难 / 申请延期, plus 签收 until acknowledged; `snooze` adds the
    reminders' 稍后提醒 button (bot.telegram.reminders)."""
    labels = status_button_labels(locale)

    def button(code: str) -> InlineKeyboardButton:
        data = AssignmentAction(code=code, assignment_id=assignment_id).pack()
        return InlineKeyboardButton(text=labels[code], callback_data=data)

    rows = [[button("p"), button("d")], [button("b"), button("x")]]
    last: list[InlineKeyboardButton] = []
    if not acknowledged:
        last.append(button("k"))
    if snooze:
        last.append(_snooze_button(assignment_id, locale))
    if last:
        rows.append(last)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _snooze_button(assignment_id: int, locale: str) -> InlineKeyboardButton:
    from bot.telegram.reminders import snooze_button  # late: reminders imports the renderers

    return snooze_button(assignment_id, locale=locale)


def my_keyboard(
    rows: list[tuple[int, str, str]], *, page: int, pages: int, locale: str
) -> InlineKeyboardMarkup | None:
    """One button per listed assignment (light, ref) opening its card, then ◀ n/m ▶."""
    builder = InlineKeyboardBuilder()
    for assignment_id, light, ref in rows:
        builder.button(
            text=f"{LIGHT_EMOJI.get(light, '')} {ref}".strip(),  # type: ignore[call-overload]
            callback_data=OpenAssignment(assignment_id=assignment_id),
        )
    sizes = [2] * (len(rows) // 2) + ([1] if len(rows) % 2 else [])
    nav = 0
    if pages > 1:
        if page > 0:
            builder.button(text="◀", callback_data=MyPage(page=page - 1))
            nav += 1
        builder.button(text=f"{page + 1}/{pages}", callback_data=MyPage(page=page))
        nav += 1
        if page < pages - 1:
            builder.button(text="▶", callback_data=MyPage(page=page + 1))
            nav += 1
    if not rows and not nav:
        return None
    builder.adjust(*(sizes + ([nav] if nav else [])))
    return builder.as_markup()
