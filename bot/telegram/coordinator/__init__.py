"""The coordinator's side of the bot: one Router per feature, each built by a function (a
Router joins only one Dispatcher). `routers()` gives them in order; the last one answers the
coordinator commands of anyone else with one polite line."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.telegram.filters import IsCoordinator

COMMANDS = (
    "status",
    "pending",
    "overdue",
    "unit",
    "plans",
    "units",
    "confirm",
    "return",
    "approve",
    "deny",
    "remind",
    "export",
    "import",
    "revoke_access",
    "remove",
)


def refusal_router() -> Router:
    """Coordinator commands from anyone without the role: one polite line, nothing else."""
    from bot.telegram.coordinator.texts import not_coordinator

    r = Router(name="coordinator-refusal")

    @r.message(Command(*COMMANDS), ~IsCoordinator())
    async def refuse(message: Message, locale: str = "zh_CN") -> None:
        await message.answer(not_coordinator(locale))

    return r


def routers() -> list[Router]:
    from bot.telegram.coordinator import actions, export, overview, pending, status, upload

    return [
        status.router(),
        overview.router(),
        actions.router(),
        pending.router(),
        export.router(),
        upload.router(),
        refusal_router(),
    ]
