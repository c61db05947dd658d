"""The one catalog of user-facing error texts: what went wrong and what to do instead.

Every coded error (bot.core.errors.CodedError: ServiceError, TransitionError, ParseRejected)
is shown through `error_line`. The texts are kept untranslated (`N_` only marks them for
extraction) and only the one needed is translated, when it is needed, in the reader's
locale (explicit, so that scheduler jobs can use it too).

Parameters are quoted back safely: dates in the reader's format, lists joined, anything else
escaped for HTML and cut to bot.telegram.render.ECHO_MAX characters.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.core.errors import CodedError
from bot.i18n import format_date, gettext
from bot.telegram.render import echo, esc


def N_(msgid: str) -> str:
    """Mark `msgid` for extraction; it is translated where it is shown."""
    return msgid


UNKNOWN = N_("That did not work (%(code)s).")

MESSAGES: dict[str, str] = {
    # --- lookups, reports, replies, invitations (liaison side)
    "unknown_ref": N_("No item %(ref)s. Check the ref in /my."),
    "unknown_unit": N_("No unit called %(unit)s. Try its full name."),
    "ambiguous_unit": N_("%(unit)s may mean: %(candidates)s. Use the full name."),
    "unknown_plan": N_("No plan with code %(plan)s."),
    "unknown_assignment": N_("This item no longer exists. Send /my for your current items."),
    "not_your_task": N_("%(ref)s is not assigned to your unit."),
    "not_your_unit": N_(
        "%(ref)s of %(unit)s is not yours: you can only report for your own unit."
    ),
    "reply_gone": N_("This question was already answered or is no longer open."),
    "bad_choice": N_("Choose one of the buttons."),
    "undo_gone": N_("This was already undone or cannot be undone."),
    "already_acknowledged": N_("%(ref)s is already acknowledged."),
    "empty_note": N_("Send some text, a photo or a file as the note."),
    "closed": N_("This item is closed (办结); you can still reply with a note."),
    "progress_range": N_(
        "Progress must be a whole percentage between 0%% and 100%% (you wrote %(progress)s), "
        "for example /report REF 进行中 60%%. Nothing was recorded."
    ),
    "waiting_confirmation": N_(
        "Already reported done; waiting for the coordinator's confirmation."
    ),
    "extension_date_required": N_("Give the new due date: /report REF extend 2026-03-31"),
    "extension_date_past": N_("The new due date %(date)s is not in the future."),
    "extension_not_later": N_(
        "The new due date %(date)s must be later than the current one, %(due)s."
    ),
    "extension_pending": N_("An extension request is already pending."),
    "bad_date": N_("%(text)s is not a date. Write it like 2026-03-31."),
    "wrong_role": N_("Only a coordinator can do that."),
    "report_usage": N_(
        "Usage: /report REF STATUS [note], STATUS one of 进行中, 已完成, 有困难, "
        "申请延期 YYYY-MM-DD (doing, done, blocked, extend); add 60%% for progress."
    ),
    "unknown_status": N_(
        "%(word)s is not a status. Use 进行中, 已完成, 有困难 or 申请延期 "
        "(doing, done, blocked, extend)."
    ),
    "task_usage": N_("Usage: /task REF, for example /task SR-12"),
    "lang_usage": N_("Usage: /lang zh or /lang en"),
    "invite_usage": N_(
        "Usage: /invite UNIT [NAME], /invite leader UNIT|PLAN [NAME], /invite coordinator [PLAN]"
    ),
    "revoke_usage": N_("Usage: /revoke TOKEN"),
    "not_liaison": N_("Only a unit's liaison can report. Ask your coordinator for an invitation."),
    "not_coordinator": N_("Only a coordinator can do that."),
    "not_your_plan": N_("You do not coordinate plan %(plan)s."),
    "unit_out_of_scope": N_(
        "%(unit)s has no items in the plans you coordinate. Ask a coordinator of its plan."
    ),
    "invite_out_of_scope": N_(
        "This invitation is for a plan you do not coordinate; its coordinator can withdraw it."
    ),
    "invite_unknown": N_("This invitation is not valid. Ask your coordinator for a new link."),
    "invite_used": N_(
        "This invitation has already been used. Ask your coordinator for a new link."
    ),
    "invite_revoked": N_("This invitation was withdrawn. Ask your coordinator for a new link."),
    "invite_expired": N_("This invitation has expired. Ask your coordinator for a new link."),
    "unit_required": N_("Name the unit: /invite UNIT [NAME]"),
    "target_required": N_("Name the unit or plan: /invite leader UNIT|PLAN [NAME]"),
    "not_about_assignment": N_(
        "That message is not about an item. Reply to a reminder or a /task card."
    ),
    "unsupported_upload": N_("Send text, a photo or a document as evidence."),
    "file_too_large": N_("The file is too large (at most 20 MB)."),
    "evidence_type": N_(
        "Sorry, %(name)s cannot be kept as evidence: this file type is not accepted. "
        "Accepted: %(accepted)s. Save it in one of these types (for example as PDF) or send "
        "a photo, replying to the item's message again. Nothing was recorded."
    ),
    # --- coordinator acts and /import uploads
    "nothing_pending_confirm": N_("%(ref)s has no completion waiting for confirmation."),
    "nothing_pending_return": N_("%(ref)s has no completion waiting for confirmation to return."),
    "nothing_pending_approve": N_("%(ref)s has no extension request waiting."),
    "nothing_pending_deny": N_("%(ref)s has no extension request waiting."),
    "already_decided": N_("%(ref)s · %(unit)s was already decided by %(by)s."),
    "nothing_pending_remind": N_("%(ref)s has nothing open to chase: it is done or closed."),
    "unit_not_on_item": N_("%(unit)s is not a responsible unit of %(ref)s."),
    "no_liaison": N_("%(unit)s has no liaison yet: invite one with /invite %(unit)s."),
    "reason_required": N_("Give a reason, for example /return SR-12 材料不全."),
    "reason_too_long": N_(
        "The reason is too long: %(length)s characters, at most %(limit)s. Shorten it and "
        "send the command again; nothing was changed."
    ),
    "not_done_reported": N_("This item has no completion waiting for confirmation."),
    "no_extension_request": N_("This item has no extension request."),
    "unsupported_plan_file": N_("Send the plan as one of these files: %(suffixes)s."),
    "plan_file_too_large": N_("The file is too large: at most %(mb)s MB."),
    "upload_expired": N_("This upload has expired. Send the file again with /import."),
    "plan_code_required": N_("Give the plan a code: /import CODE, for example /import SR."),
    # --- /withdraw, python -m bot withdraw / restore
    "plan_already_withdrawn": N_(
        "Plan %(plan)s is already withdrawn. The operator can bring it back with "
        "python -m bot restore %(plan)s."
    ),
    "plan_not_withdrawn": N_("Plan %(plan)s is not withdrawn."),
    "plan_file_missing": N_(
        "Plan %(plan)s has no file to restore from: put its YAML file in %(folder)s."
    ),
    # --- coordinator command usage
    "confirm_usage": N_("Usage: /confirm REF [UNIT], for example /confirm SR-12 市卫健委"),
    "return_usage": N_("Usage: /return REF [UNIT] reason, for example /return SR-12 材料不全"),
    "approve_usage": N_("Usage: /approve REF [UNIT]"),
    "deny_usage": N_("Usage: /deny REF [UNIT] reason"),
    "remind_usage": N_("Usage: /remind REF [UNIT] [note]"),
    "unit_usage": N_("Usage: /unit NAME, for example /unit 市卫健委"),
    # --- /revoke_access
    "member_unknown": N_(
        "That access has already ended or does not exist. Send /revoke_access to see who has "
        "access now."
    ),
    "member_out_of_scope": N_(
        "That person's role is in a plan you do not coordinate; its coordinator can end it."
    ),
    "member_is_self": N_("You cannot end your own access; ask another coordinator."),
    "member_is_admin": N_(
        "%(name)s is an administrator from ADMIN_IDS: remove the id there and restart the bot."
    ),
    "member_not_found": N_(
        "Nobody you can remove matches %(text)s. Send /revoke_access alone to see everyone "
        "you can remove."
    ),
    "nobody_removable": N_("Nobody in your plans has access that you can end."),
    # --- /import parsing and review
    "plan_input": N_("The importer could not read this plan: %(message)s"),
    "import_too_slow": N_(
        "This file takes too long to read (over %(seconds)s seconds), so it was stopped. "
        "Split it into smaller files, or send the plan's text as .txt."
    ),
    "import_failed": N_(
        "The importer could not read this file. Check that it opens, or send the plan's text "
        "as .txt."
    ),
    "import_fix_unknown": N_("Reply with what to change: 年份 2024, 单位 市卫健委 or 代码 JJ."),
    "import_bad_year": N_("“%(value)s” is not a year: send four digits, e.g. 2024."),
    "import_bad_code": N_("“%(value)s” is not a plan code: send 1-6 letters or digits, e.g. JJ."),
    "import_bad_unit": N_(
        "Send the unit's name on one line, at most %(max)s characters, e.g. 市卫健委."
    ),
    "import_outdated": N_("This summary is out of date: use the buttons of the latest one."),
}


def error_text(code: str, params: dict[str, Any], *, locale: str) -> str:
    """One line saying what went wrong and what to do instead."""
    msgid = MESSAGES.get(code)
    if msgid is None:
        return gettext(UNKNOWN, locale=locale) % {"code": esc(code)}
    text = gettext(msgid, locale=locale)
    try:
        return text % {k: _fmt(v, locale) for k, v in params.items()}
    except (KeyError, TypeError, ValueError):
        return text


def error_line(exc: CodedError, locale: str) -> str:
    """The line for a refused request, in `locale`."""
    return error_text(exc.code, dict(exc.params), locale=locale)


def _fmt(value: Any, locale: str) -> str:
    if isinstance(value, date):
        return format_date(value, locale=locale)
    if isinstance(value, list | tuple):
        sep = "、" if locale == "zh_CN" else ", "
        return sep.join(esc(v) for v in value)
    return echo(value)
