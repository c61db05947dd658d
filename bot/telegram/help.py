"""/help: the commands of each of the sender's roles, in their language."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.core.roles import Roles


def help_text(roles: Roles) -> str:
    """Every line through the catalog, so /lang switches all of them."""
    lines = [_("<b>Task supervision assistant</b>: plan tasks, deadlines and reports.")]
    if roles.liaison:
        lines += [
            "",
            _("<b>Liaison</b>"),
            _("/my: your unit's open items, most urgent first"),
            _("/task REF: an item's card with milestones, units and history"),
            _("/report REF STATUS [note]: report progress"),
            _("STATUS: doing / done / blocked / extend DATE; add progress like 60%"),
            _("The buttons under an item do the same in one tap; Acknowledge confirms receipt."),
            _("Reply to a message about an item with text, a photo or a file to add a note."),
        ]
    if roles.coordinator:
        lines += [
            "",
            _("<b>Coordinator</b>"),
            _("/status [PLAN|UNIT]: totals, lights and rates"),
            _("/scorecard [PLAN|all] [week|month]: the units ranked, as a picture"),
            _("/pending: completions and extension requests waiting for your decision"),
            _("/overdue [UNIT]: overdue items"),
            _("/unit NAME: one unit's items"),
            _("/find WORD [WORD…]: items whose title or text contains every word"),
            _("/plans, /units: plans loaded, units and their liaisons"),
            _("/confirm REF [UNIT]: confirm done"),
            _("/return REF [UNIT] reason: send back"),
            _("/approve REF, /deny REF reason: decide an extension"),
            _("/remind REF [UNIT]: chase now"),
            _("/export: the ledger as .xlsx; /import: load a plan document"),
            _("/withdraw CODE: withdraw a plan (after a confirmation); its history is kept"),
            _("/invite UNIT [NAME]: invite a liaison"),
            _("/invite leader UNIT|PLAN [NAME], /invite coordinator [PLAN]"),
            _("/revoke TOKEN: withdraw an invitation"),
            _("/revoke_access [UNIT|PLAN] [NAME] (or /remove): end someone's access"),
            _("In a group: /subscribe [PLAN] for the weekly digest, /lang zh|en for its language"),
        ]
    if roles.leader:
        lines += [
            "",
            _("<b>Leader</b>"),
            _("Escalations and the weekly digest arrive here."),
            _("/scorecard [PLAN|all] [week|month]: the units ranked, as a picture"),
            _("/task REF: an item's card"),
            _("/find WORD [WORD…]: items whose title or text contains every word"),
        ]
    lines += ["", _("/lang zh or /lang en: change the language")]
    return "\n".join(lines)


async def show_help(message: Message, roles: Roles) -> None:
    await message.answer(help_text(roles))


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.message.register(show_help, Command("help"))
