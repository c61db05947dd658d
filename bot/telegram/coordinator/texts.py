"""One-line messages of the coordinator's commands: usage, refusals, errors, outcomes.
Explicit locales (as in bot.telegram.render); codes the liaison side already knows fall back to
bot.telegram.render.error_text."""

from __future__ import annotations

from typing import Any

from bot.core.status import TransitionError
from bot.i18n import format_date, gettext
from bot.services.errors import ServiceError
from bot.telegram.render import echo, error_text, esc


def usage(code: str, locale: str) -> str | None:
    texts = {
        "confirm_usage": gettext(
            "Usage: /confirm REF [UNIT], for example /confirm SR-12 市卫健委", locale=locale
        ),
        "return_usage": gettext(
            "Usage: /return REF [UNIT] reason, for example /return SR-12 材料不全",
            locale=locale,
        ),
        "approve_usage": gettext("Usage: /approve REF [UNIT]", locale=locale),
        "deny_usage": gettext("Usage: /deny REF [UNIT] reason", locale=locale),
        "remind_usage": gettext("Usage: /remind REF [UNIT] [note]", locale=locale),
        "unit_usage": gettext("Usage: /unit NAME, for example /unit 市卫健委", locale=locale),
    }
    return texts.get(code)


def error_line(exc: ServiceError | TransitionError, locale: str) -> str:
    code, params = exc.code, dict(exc.params)
    p = {
        k: format_date(v, locale=locale)
        if hasattr(v, "isoformat") and not isinstance(v, str)
        else echo(v)
        for k, v in params.items()
    }
    texts = {
        "nothing_pending_confirm": gettext(
            "%(ref)s has no completion waiting for confirmation.", locale=locale
        ),
        "nothing_pending_return": gettext(
            "%(ref)s has no completion waiting for confirmation to return.", locale=locale
        ),
        "nothing_pending_approve": gettext(
            "%(ref)s has no extension request waiting.", locale=locale
        ),
        "nothing_pending_deny": gettext(
            "%(ref)s has no extension request waiting.", locale=locale
        ),
        "nothing_pending_remind": gettext(
            "%(ref)s has nothing open to chase: it is done or closed.", locale=locale
        ),
        "unit_not_on_item": gettext(
            "%(unit)s is not a responsible unit of %(ref)s.", locale=locale
        ),
        "no_liaison": gettext(
            "%(unit)s has no liaison yet: invite one with /invite %(unit)s.", locale=locale
        ),
        "reason_required": gettext(
            "Give a reason, for example /return SR-12 材料不全.", locale=locale
        ),
        "reason_too_long": gettext(
            "The reason is too long: %(length)s characters, at most %(limit)s. Shorten it and "
            "send the command again; nothing was changed.",
            locale=locale,
        ),
        "not_done_reported": gettext(
            "This item has no completion waiting for confirmation.", locale=locale
        ),
        "no_extension_request": gettext("This item has no extension request.", locale=locale),
        "unsupported_plan_file": gettext(
            "Send the plan as one of these files: %(suffixes)s.", locale=locale
        ),
        "plan_file_too_large": gettext("The file is too large: at most %(mb)s MB.", locale=locale),
        "upload_expired": gettext(
            "This upload has expired. Send the file again with /import.", locale=locale
        ),
        "plan_code_required": gettext(
            "Give the plan a code: /import CODE, for example /import SR.", locale=locale
        ),
    }
    text = texts.get(code) or usage(code, locale)
    if text is None:
        return error_text(code, params, locale=locale)
    try:
        return text % p
    except (KeyError, TypeError, ValueError):
        return text


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


def all_units_label(locale: str) -> str:
    return gettext("All units", locale=locale)


def all_plans_label(locale: str) -> str:
    return gettext("all plans", locale=locale)
