"""Texts and keyboards of the /import review (bot.services.import_review): the summary per
family, what confirm will do (a new plan, or replacing one — said with its assignment count),
the buttons that fix what the text cannot tell, the questions and the error lines."""

from __future__ import annotations

from typing import Any

from aiogram.types import ForceReply, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import format_date, format_number, gettext, ngettext
from bot.services import plan_upload as up
from bot.services.errors import ServiceError
from bot.services.import_review import MAX_UNIT, Loaded, Review
from bot.telegram.coordinator.callbacks import ImportAct
from bot.telegram.errors import error_text
from bot.telegram.render import esc, short

SHOWN_WARNINGS = 5


def _n(value: int, locale: str) -> str:
    return format_number(value, locale=locale)


def summary_text(review: Review, *, locale: str) -> str:
    s, o = review.summary, review.options
    n = lambda v: _n(v, locale)  # noqa: E731
    lines = [
        gettext("<b>%(code)s</b> %(title)s", locale=locale)
        % {"code": esc(s.code), "title": esc(short(s.title, 80))},
        gettext("From %(file)s · period %(start)s – %(end)s", locale=locale)
        % {
            "file": esc(short(review.file_name, 60)),
            "start": format_date(s.start, locale=locale),
            "end": format_date(s.end, locale=locale),
        },
        gettext(
            "Tasks %(tasks)s · key projects %(projects)s · indicators %(indicators)s · "
            "units %(units)s",
            locale=locale,
        )
        % {
            "tasks": n(s.tasks),
            "projects": n(s.projects),
            "indicators": n(s.indicators),
            "units": n(s.units),
        },
        ngettext(
            "Dated: %(n)s item names its own deadline",
            "Dated: %(n)s items name their own deadlines",
            s.dated,
            locale=locale,
        )
        % {"n": n(s.dated)},
    ]
    if s.implied:
        lines.append(
            ngettext(
                "%(n)s item has no deadline of its own: plan end %(end)s used",
                "%(n)s items have no deadline of their own: plan end %(end)s used",
                s.implied,
                locale=locale,
            )
            % {"n": n(s.implied), "end": format_date(s.end, locale=locale)}
        )
    if s.recurring:
        lines.append(
            ngettext(
                "%(n)s standing duty (periodic reports)",
                "%(n)s standing duties (periodic reports)",
                s.recurring,
                locale=locale,
            )
            % {"n": n(s.recurring)}
        )
    if s.milestones_per_year:
        per_year = ", ".join(f"{y}: {n(c)}" for y, c in s.milestones_per_year.items())
        lines.append(
            gettext("Milestones per year: %(years)s", locale=locale) % {"years": per_year}
        )
    chosen = []
    if o.year is not None:
        chosen.append(gettext("year %(year)s", locale=locale) % {"year": o.year})
    if o.default_unit:
        chosen.append(
            gettext("default unit %(unit)s", locale=locale) % {"unit": esc(o.default_unit)}
        )
    if o.code and not o.replace:  # when replacing, the warning below names the code
        chosen.append(gettext("code %(code)s", locale=locale) % {"code": esc(o.code)})
    if chosen:
        lines.append(
            gettext("Your choices: %(choices)s", locale=locale) % {"choices": ", ".join(chosen)}
        )
    if s.warnings:
        lines.append(
            ngettext("%(n)s warning:", "%(n)s warnings:", len(s.warnings), locale=locale)
            % {"n": n(len(s.warnings))}
        )
        lines += [f"• {esc(short(w, 160))}" for w in s.warnings[:SHOWN_WARNINGS]]
        more = len(s.warnings) - SHOWN_WARNINGS
        if more > 0:
            lines.append(
                ngettext("…and %(n)s more", "…and %(n)s more", more, locale=locale)
                % {"n": n(more)}
            )
    lines.append("")
    lines.append(what_confirm_does(review, locale=locale))
    lines.append(
        gettext(
            "To fix what the text cannot tell, press a button below or reply to this message, "
            "e.g. <code>年份 2024</code>, <code>单位 市卫健委</code>, <code>代码 JJ</code> "
            "(<code>-</code> puts back what the text says).",
            locale=locale,
        )
    )
    return "\n".join(lines)


def what_confirm_does(review: Review, *, locale: str) -> str:
    s = review.summary
    if review.replacing is not None:
        return gettext(
            "⚠️ Confirming REPLACES plan %(code)s “%(title)s” (%(assignments)s assignments): "
            "its items that are not in this file are archived.",
            locale=locale,
        ) % {
            "code": esc(review.replacing.code),
            "title": esc(short(review.replacing.title, 60)),
            "assignments": _n(review.replacing.assignments, locale),
        }
    if review.taken is not None:
        return gettext(
            "Plan code %(taken)s is already used (%(assignments)s assignments), so this file "
            "becomes a new plan %(code)s and %(taken)s stays as it is. To replace %(taken)s "
            "instead, press its Replace button.",
            locale=locale,
        ) % {
            "taken": esc(review.taken.code),
            "assignments": _n(review.taken.assignments, locale),
            "code": esc(s.code),
        }
    return gettext("Confirming loads it as a new plan %(code)s.", locale=locale) % {
        "code": esc(s.code)
    }


def review_keyboard(review: Review, *, locale: str) -> InlineKeyboardMarkup:
    def act(a: str) -> str:
        return ImportAct(token=review.token, act=a, v=review.version).pack()

    b = InlineKeyboardBuilder()
    if review.replacing is not None:
        b.button(
            text=gettext("Replace %(code)s and load", locale=locale)
            % {"code": review.replacing.code},
            callback_data=act("c"),
        )
    else:
        b.button(text=gettext("Confirm and load", locale=locale), callback_data=act("c"))
    b.button(text=gettext("Cancel", locale=locale), callback_data=act("x"))
    b.button(text=gettext("Year", locale=locale), callback_data=act("y"))
    b.button(text=gettext("Default unit", locale=locale), callback_data=act("u"))
    b.button(text=gettext("Plan code", locale=locale), callback_data=act("k"))
    sizes = [2, 3]
    if review.replacing is not None:
        b.button(text=gettext("Keep it a new plan instead", locale=locale), callback_data=act("n"))
        sizes.append(1)
    elif review.taken is not None:
        b.button(
            text=gettext("Replace plan %(code)s (%(assignments)s assignments)?", locale=locale)
            % {"code": review.taken.code, "assignments": _n(review.taken.assignments, locale)},
            callback_data=act("r"),
        )
        sizes.append(1)
    b.adjust(*sizes)
    return b.as_markup()


def question(field: str, *, locale: str) -> tuple[str, ForceReply]:
    texts = {
        "year": gettext(
            "Send the plan's year, e.g. 2024 (- to take it from the text again).", locale=locale
        ),
        "unit": gettext(
            "Send the unit responsible for items that name none, e.g. 市卫健委 (- for none).",
            locale=locale,
        ),
        "code": gettext(
            "Send the plan code: 1-6 letters or digits, e.g. JJ (- to derive it again).",
            locale=locale,
        ),
    }
    return texts[field], ForceReply(selective=True)


def loaded_text(loaded: Loaded, *, locale: str) -> str:
    r = loaded.result
    text = gettext(
        "Loaded %(code)s: %(items)s items, %(assignments)s assignments. See /status %(code)s.",
        locale=locale,
    ) % {
        "code": esc(r.code),
        "items": _n(r.tasks + r.key_projects + r.indicators, locale),
        "assignments": _n(r.assignments, locale),
    }
    if loaded.replaced is not None:
        text += "\n" + gettext(
            "Plan %(code)s was replaced: %(archived)s of its assignments were archived.",
            locale=locale,
        ) % {"code": esc(r.code), "archived": _n(r.assignment_changes.archived, locale)}
    return text


def import_error(exc: ServiceError, *, locale: str) -> str:
    """The line for a refused /import step (bot.telegram.errors); the importer's message is
    shortened to one line of at most 300 characters."""
    params: dict[str, Any] = dict(IMPORT_PARAM_DEFAULTS.get(exc.code, {}))
    params.update(exc.params)
    if exc.code == "plan_input":
        params = {"message": short(str(params.get("message", "")), 300)}
    return error_text(exc.code, params, locale=locale)


IMPORT_PARAM_DEFAULTS: dict[str, dict[str, Any]] = {
    "import_too_slow": {"seconds": ""},
    "import_bad_year": {"value": ""},
    "import_bad_code": {"value": ""},
    "import_bad_unit": {"max": MAX_UNIT},
}


def send_file_prompt(*, locale: str) -> str:
    return gettext("Send the plan as a file (%(suffixes)s, at most %(mb)s MB).", locale=locale) % {
        "suffixes": " ".join(up.readable_suffixes()),
        "mb": up.MAX_BYTES // (1024 * 1024),
    }
