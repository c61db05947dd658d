"""The coordinator's side of the bot: one feature per module, each with a `setup(router)`
that registers its module-level handlers. `FEATURES` lists them in dispatch order (router
name, setup); the last one answers the coordinator commands of anyone else with one polite
line."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.telegram.coordinator import (
    actions,
    export,
    overview,
    pending,
    status,
    upload,
    withdraw,
)
from bot.telegram.coordinator.texts import not_coordinator
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
    "withdraw",
    "revoke_access",
    "remove",
)


async def refuse(message: Message, locale: str = "zh_CN") -> None:
    await message.answer(not_coordinator(locale))


def setup_refusal(router: Router) -> None:
    """Coordinator commands from anyone without the role: one polite line, nothing else."""
    router.message.register(refuse, Command(*COMMANDS), ~IsCoordinator())


FEATURES: tuple[tuple[str, Callable[[Router], None]], ...] = (
    ("coordinator-status", status.setup),
    ("coordinator-overview", overview.setup),
    ("coordinator-actions", actions.setup),
    ("coordinator-pending", pending.setup),
    ("coordinator-export", export.setup),
    ("coordinator-upload", upload.setup),
    ("coordinator-withdraw", withdraw.setup),
    ("coordinator-refusal", setup_refusal),
)
