"""What every notice renderer shares: the result type, the context and small pieces."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from aiogram.types import InlineKeyboardMarkup

from bot.core.notices import ItemNotice
from bot.core.plan_names import plan_label
from bot.i18n import format_date, format_datetime, gettext, ngettext
from bot.telegram.limits import MAX_TEXT, SAFE_TEXT, split_html, utf16_len
from bot.telegram.render import esc


@dataclass(frozen=True)
class Rendered:
    """One outbox row as Telegram message(s); see `bot.telegram.notices`."""

    text: str
    reply_markup: InlineKeyboardMarkup | None = None
    assignment_id: int | None = None
    # a picture sent before the text (plain-text caption), drawn by
    # `bot.telegram.notices.picture_view` from the same row; the text is complete without it
    photo: str | None = None

    @property
    def parts(self) -> list[Rendered]:
        if utf16_len(self.text) <= MAX_TEXT:
            return [self]
        chunks = split_html(self.text, limit=SAFE_TEXT)
        total = len(chunks)
        out: list[Rendered] = []
        for index, chunk in enumerate(chunks, start=1):
            last = index == total
            out.append(
                Rendered(
                    f"{chunk}\n<i>({index}/{total})</i>",
                    self.reply_markup if last else None,
                    self.assignment_id,
                )
            )
        return out


@dataclass(frozen=True)
class Context:
    """Who reads the notice: their language, and the plans' time zone (for instants)."""

    locale: str
    zone: tzinfo


def day(value: date | str | None, locale: str) -> str:
    if not value:
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return format_date(value, locale=locale)


def instant(value: datetime | None, ctx: Context) -> str:
    if value is None:
        return "—"
    return format_datetime(value, locale=ctx.locale, zone=ctx.zone)


def heading(icon: str, label: str, plan: str) -> str:
    return f"{icon} <b>{esc(label)}</b>" + (f" · {esc(plan)}" if plan else "")


def short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def days_overdue(n: int, locale: str) -> str:
    return ngettext("%(n)s day overdue", "%(n)s days overdue", n, locale=locale) % {"n": n}


def kind_labels(locale: str) -> dict[str, str]:
    return {
        "reminder": gettext("reminder", locale=locale),
        "ack_chase": gettext("acknowledgement chase", locale=locale),
        "overdue": gettext("overdue notice", locale=locale),
        "escalation": gettext("supervision notice", locale=locale),
        "chase": gettext("chase", locale=locale),
    }


def item_heading(icon: str, label: str, n: ItemNotice) -> str:
    """The notice's first line: what it is and the plan by code and short name."""
    return heading(icon, label, plan_label(n.plan, n.plan_title))
