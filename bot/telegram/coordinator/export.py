"""/export [PLAN|UNIT]: the 台账 as an .xlsx document (bot.services.export), headers in the
coordinator's language."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.core.policy import Policy
from bot.core.roles import Roles
from bot.core.workdays import is_working_day
from bot.i18n import format_number, gettext
from bot.services import export, ranking
from bot.telegram.coordinator.scope import scope_or_explain
from bot.telegram.coordinator.status import ack_window
from bot.telegram.coordinator.texts import all_plans_label
from bot.telegram.filters import IsCoordinator
from bot.telegram.render import esc, status_label


def headers(locale: str) -> dict[str, str]:
    return {
        "plan": gettext("Plan", locale=locale),
        "ref": gettext("Ref", locale=locale),
        "section": gettext("Section", locale=locale),
        "title": gettext("Task", locale=locale),
        "unit": gettext("Unit", locale=locale),
        "liaisons": gettext("Liaison", locale=locale),
        "milestone": gettext("Milestone", locale=locale),
        "due": gettext("Due", locale=locale),
        "original_due": gettext("Original due", locale=locale),
        "status": gettext("Status", locale=locale),
        "progress": gettext("Progress %", locale=locale),
        "last_report_at": gettext("Last report", locale=locale),
        "last_report_note": gettext("Last report note", locale=locale),
        "days_late": gettext("Days late", locale=locale),
        "evidence": gettext("Evidence", locale=locale),
    }


def ranking_headers(locale: str) -> dict[str, str]:
    return {
        "rank": gettext("Rank", locale=locale),
        "unit": gettext("Unit", locale=locale),
        "light": gettext("Light", locale=locale),
        "on_time": gettext("On-time completion rate", locale=locale),
        "on_time_parts": gettext("On time / due", locale=locale),
        "acknowledgement": gettext("Timely acknowledgement rate", locale=locale),
        "acknowledgement_parts": gettext("In time / judged", locale=locale),
        "overdue": gettext("Overdue", locale=locale),
        "total": gettext("Assignments", locale=locale),
        "closed": gettext("Closed", locale=locale),
    }


def light_label(light: str, locale: str) -> str:
    labels = {
        "red": gettext("red", locale=locale),
        "yellow": gettext("yellow", locale=locale),
        "green": gettext("green", locale=locale),
        "grey": gettext("grey", locale=locale),
    }
    return labels.get(light, light)


async def ledger_document(
    session: AsyncSession,
    *,
    scope: Any,
    settings: Settings,
    policy: Policy,
    clock: Clock,
    locale: str,
    label: str = "",
) -> tuple[bytes, str, int]:
    """(xlsx bytes, file name naming the scope `label`, rows)."""
    now = clock.now()
    rows = await export.ledger_rows(session, scope=scope, at=now, zone=settings.clock.zone)
    ranked = await ranking.unit_ranking(
        session,
        scope=scope,
        at=now,
        zone=settings.clock.zone,
        ack_window=ack_window(policy),
        is_working_day=is_working_day,
    )
    sheet = export.RankingSheet(
        title=gettext("Ranking", locale=locale),
        headers=ranking_headers(locale),
        rows=ranked.rows,
        light_label=lambda light: light_label(light, locale),
    )
    data = await asyncio.to_thread(
        export.workbook_bytes,
        rows,
        headers=headers(locale),
        status_label=lambda s: status_label(s, locale),
        zone=settings.clock.zone,
        sheet_title=gettext("Ledger", locale=locale),
        ranking=sheet,
        photo_label=gettext("photo", locale=locale),
    )
    name = export.file_name(now, settings.clock.zone, label, word=gettext("Ledger", locale=locale))
    return data, name, len(rows)


async def export_cmd(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    settings: Settings,
    policy: Policy,
    clock: Clock,
    roles: Roles,
    directory: Any,
    locale: str,
) -> None:
    choice = await scope_or_explain(
        message,
        command.args,
        session=session,
        directory=directory,
        roles=roles,
        locale=locale,
    )
    if choice is None:
        return
    label = choice.label if choice.label is not None else all_plans_label(locale)
    data, name, count = await ledger_document(
        session,
        scope=choice.scope,
        settings=settings,
        policy=policy,
        clock=clock,
        locale=locale,
        label=label,
    )
    caption = gettext("Ledger of %(scope)s: %(n)s rows", locale=locale) % {
        "scope": esc(label),
        "n": format_number(count, locale=locale),
    }
    await message.answer_document(BufferedInputFile(data, filename=name), caption=caption)


def setup(router: Router) -> None:
    """Register this feature's filters and handlers on `router` (bot.telegram.setup)."""
    router.message.filter(IsCoordinator())
    router.message.register(export_cmd, Command("export"))
