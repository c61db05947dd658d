"""The /find answer: one line per item (ref, short title with the matches in bold, plan code,
units by status), a button per item opening its card, ◀ n/m ▶."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core.textsearch import snippet, spans
from bot.i18n import gettext
from bot.services.search import FindResult, FoundItem
from bot.telegram.callbacks import FindPage, OpenTask
from bot.telegram.coordinator.render import page_footer
from bot.telegram.limits import MAX_CALLBACK
from bot.telegram.render import echo, esc, short, status_counts

TITLE_MAX = 30  # characters of an item's title on its line
SNIPPET = 36  # characters of the full text around a match that the title lacks


def highlight(text: str, words: Sequence[str]) -> str:
    """`text` escaped for HTML, with every occurrence of a word in <b>."""
    out: list[str] = []
    last = 0
    for start, end in spans(text, words):
        out += [esc(text[last:start]), "<b>", esc(text[start:end]), "</b>"]
        last = end
    out.append(esc(text[last:]))
    return "".join(out)


def item_line(item: FoundItem, words: Sequence[str]) -> str:
    title = short(item.title, TITLE_MAX)
    line = f"<b>{esc(item.ref)}</b> {highlight(title, words)} · {esc(item.plan_code)}"
    missing = [w for w in words if not spans(title, [w])]
    if missing:  # some words are in the full text only: show where
        found = snippet(" ".join(item.text.split()), missing, SNIPPET)
        if found is not None:
            piece, before, after = found
            line += "\n    " + ("…" if before else "") + highlight(piece, words)
            line += "…" if after else ""
    return line


def find_text(result: FindResult, *, query: str, words: Sequence[str], locale: str) -> str:
    if not result.total:
        return gettext(
            "Nothing found for “%(query)s” in the items you can see.", locale=locale
        ) % {"query": echo(query)}
    lines = [
        gettext("Items containing “%(query)s”: %(count)s", locale=locale)
        % {"query": echo(query), "count": result.total}
    ]
    for item in result.items:
        lines.append(item_line(item, words))
        summary = status_counts(item.statuses, locale)
        if summary:
            lines.append("    " + esc(summary))
    if result.pages > 1:
        lines.append(page_footer(result.page, result.pages, locale))
        if page_data(0, words) is None:
            lines.append(
                gettext("Add a word to narrow the search and see the rest.", locale=locale)
            )
    return "\n".join(lines)


def page_data(page: int, words: Sequence[str]) -> FindPage | None:
    """The callback of a page, or None when the query does not fit Telegram's 64 bytes."""
    try:
        data = FindPage(page=page, q=" ".join(words))
        packed = data.pack()
    except ValueError:  # the query holds the callback separator ":"
        return None
    return data if len(packed.encode()) <= MAX_CALLBACK else None


def find_keyboard(result: FindResult, words: Sequence[str]) -> InlineKeyboardMarkup | None:
    builder = InlineKeyboardBuilder()
    for item in result.items:
        builder.button(text=item.ref, callback_data=OpenTask(task_id=item.task_id))
    full, rest = divmod(len(result.items), 3)
    sizes = [3] * full + ([rest] if rest else [])
    nav = 0
    if result.pages > 1 and page_data(0, words) is not None:
        if result.page > 0:
            builder.button(text="◀", callback_data=page_data(result.page - 1, words))
            nav += 1
        builder.button(
            text=f"{result.page + 1}/{result.pages}", callback_data=page_data(result.page, words)
        )
        nav += 1
        if result.page < result.pages - 1:
            builder.button(text="▶", callback_data=page_data(result.page + 1, words))
            nav += 1
    if not result.items:
        return None
    builder.adjust(*(sizes + ([nav] if nav else [])))
    return builder.as_markup()
