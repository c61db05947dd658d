"""One-line messages of the coordinator's commands: refusals and outcomes, in explicit
locales (as in bot.telegram.render). Error codes are translated by bot.telegram.errors."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from bot.core.errors import CodedError
from bot.i18n import format_date, format_datetime, gettext
from bot.telegram.errors import error_line
from bot.telegram.render import esc


def not_coordinator(locale: str) -> str:
    return gettext(
        "Sorry, only a coordinator can use this command. Send /help to see yours.", locale=locale
    )


def outcome_line(
    action: str,
    ref: str,
    unit: str,
    *,
    locale: str,
    due: Any = None,
    told: int = 0,
    liaisons: int = 0,
) -> str:
    """The coordinator's acknowledgement of an act. It says the unit was told only when every
    one of its `liaisons` got the notice (`told`); otherwise a second line says who was not."""
    p = {"ref": esc(ref), "unit": esc(unit), "due": format_date(due, locale=locale) if due else ""}
    everyone = liaisons > 0 and told >= liaisons
    texts = {
        "confirm": gettext("✅ %(ref)s of %(unit)s is closed (办结).", locale=locale),
        "return": gettext(
            "↩️ %(ref)s of %(unit)s was returned; the unit has been told why.", locale=locale
        )
        if everyone
        else gettext("↩️ %(ref)s of %(unit)s was returned.", locale=locale),
        "approve": gettext(
            "✅ Extension of %(ref)s for %(unit)s approved: now due %(due)s.", locale=locale
        ),
        "deny": gettext(
            "❌ Extension of %(ref)s for %(unit)s denied; the unit has been told why.",
            locale=locale,
        )
        if everyone
        else gettext("❌ Extension of %(ref)s for %(unit)s denied.", locale=locale),
    }
    line = texts[action] % p
    if everyone:
        return line
    return line + "\n" + not_told_line(unit, told=told, liaisons=liaisons, locale=locale)


def not_told_line(unit: str, *, told: int, liaisons: int, locale: str) -> str:
    """Why the unit does not know yet, and what the coordinator can do."""
    p = {"unit": esc(unit), "told": told, "total": liaisons}
    if liaisons == 0:
        text = gettext(
            "⚠️ %(unit)s has no liaison, so nobody was told: invite one with /invite %(unit)s "
            "or tell the unit yourself.",
            locale=locale,
        )
    elif told == 0:
        text = gettext(
            "⚠️ %(unit)s could not be told: the message to its liaisons failed. Please tell "
            "the unit yourself.",
            locale=locale,
        )
    else:
        text = gettext(
            "⚠️ Only %(told)s of the %(total)s liaisons of %(unit)s could be told. Please tell "
            "the others yourself.",
            locale=locale,
        )
    return text % p


def liaison_notice(
    action: str, ref: str, title: str, *, locale: str, reason: str = "", due: Any = None
) -> str:
    """What the unit's liaisons are told, in their own locale."""
    p = {
        "ref": esc(ref),
        "title": esc(title),
        "reason": esc(reason),
        "due": format_date(due, locale=locale) if due else "",
    }
    texts = {
        "confirm": gettext(
            "✅ <b>%(ref)s</b> %(title)s: your completion was confirmed (办结). Thank you.",
            locale=locale,
        ),
        "return": gettext(
            "↩️ <b>%(ref)s</b> %(title)s was returned (退回): %(reason)s\n"
            "Please continue and report again when it is done.",
            locale=locale,
        ),
        "approve": gettext(
            "✅ <b>%(ref)s</b> %(title)s: your extension was approved. New due date: %(due)s.",
            locale=locale,
        ),
        "deny": gettext(
            "❌ <b>%(ref)s</b> %(title)s: your extension request was denied: %(reason)s",
            locale=locale,
        ),
    }
    return texts[action] % p


def chase_line(ref: str, unit: str, queued: int, *, locale: str) -> str:
    if queued == 0:
        return gettext("%(ref)s of %(unit)s was already chased just now.", locale=locale) % {
            "ref": esc(ref),
            "unit": esc(unit),
        }
    return gettext("📣 Chase of %(ref)s sent to %(unit)s (%(n)s liaison(s)).", locale=locale) % {
        "ref": esc(ref),
        "unit": esc(unit),
        "n": queued,
    }


def choose_line(action: str, ref: str, *, locale: str) -> str:
    texts = {
        "confirm": gettext("%(ref)s: which unit's completion do you confirm?", locale=locale),
        "approve": gettext("%(ref)s: which unit's extension do you approve?", locale=locale),
        "remind": gettext("%(ref)s: which unit do you chase?", locale=locale),
    }
    return texts.get(action, "%(ref)s") % {"ref": esc(ref)}


def name_unit_line(action: str, ref: str, units: list[str], *, locale: str) -> str:
    """/return and /deny carry a reason, which a button cannot: ask for the unit in words."""
    sep = "、" if locale == "zh_CN" else ", "
    return gettext(
        "%(ref)s is pending for several units (%(units)s). Repeat the command with the unit: "
        "/%(command)s %(ref)s UNIT reason",
        locale=locale,
    ) % {"ref": esc(ref), "units": sep.join(esc(u) for u in units), "command": action}


def all_plans_label(locale: str) -> str:
    return gettext("all plans", locale=locale)


def decided_line(params: dict[str, Any], *, locale: str, zone: tzinfo) -> str:
    """A decision already taken elsewhere (another notice, /pending, another coordinator):
    who took it and when, instead of deciding twice."""
    at = params.get("at")
    p = {
        "ref": esc(params.get("ref", "")),
        "unit": esc(params.get("unit", "")),
        "by": esc(params.get("by", "")),
        "at": format_datetime(at, locale=locale, zone=zone) if isinstance(at, datetime) else "",
    }
    texts = {
        "confirm": gettext(
            "%(ref)s · %(unit)s was already closed (办结) by %(by)s on %(at)s.", locale=locale
        ),
        "return": gettext(
            "%(ref)s · %(unit)s was already returned (退回) by %(by)s on %(at)s.", locale=locale
        ),
        "extension_approve": gettext(
            "The extension of %(ref)s · %(unit)s was already approved by %(by)s on %(at)s.",
            locale=locale,
        ),
        "extension_deny": gettext(
            "The extension of %(ref)s · %(unit)s was already denied by %(by)s on %(at)s.",
            locale=locale,
        ),
    }
    return texts.get(str(params.get("act")), texts["confirm"]) % p


def refusal_line(exc: CodedError, *, locale: str, zone: tzinfo) -> str:
    """The answer to a refused act: a decision taken elsewhere politely, else the error."""
    if exc.code == "already_decided":
        return decided_line(dict(exc.params), locale=locale, zone=zone)
    return error_line(exc, locale)
