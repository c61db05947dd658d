"""The command menu (setMyCommands), per language and per role scope.

Everyone sees the liaison's commands in the default scope; each coordinator's private chat gets
the coordinator's commands too. Telegram picks the list by the client's language (zh / en);
without a language it shows the default locale's list.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from bot.i18n import gettext

log = logging.getLogger(__name__)

# Telegram language codes (ISO 639-1) → our catalogs
MENU_LANGUAGES = {"zh": "zh_CN", "en": "en"}


def base_commands(locale: str) -> list[BotCommand]:
    def c(name: str, description: str) -> BotCommand:
        return BotCommand(command=name, description=description)

    return [
        c("my", gettext("My open items", locale=locale)),
        c("task", gettext("An item's card: /task REF", locale=locale)),
        c("report", gettext("Report: /report REF STATUS [note]", locale=locale)),
        c("help", gettext("What I can do for you", locale=locale)),
        c("lang", gettext("Language: /lang zh or /lang en", locale=locale)),
        c("start", gettext("Start, or accept an invitation", locale=locale)),
    ]


def coordinator_commands(locale: str) -> list[BotCommand]:
    def c(name: str, description: str) -> BotCommand:
        return BotCommand(command=name, description=description)

    return [
        c("status", gettext("Plan status: /status [PLAN|UNIT]", locale=locale)),
        c("scorecard", gettext("Units ranked, as a picture: /scorecard [PLAN]", locale=locale)),
        c("pending", gettext("What waits for your decision", locale=locale)),
        c("overdue", gettext("Overdue items: /overdue [UNIT]", locale=locale)),
        c("unit", gettext("One unit's items: /unit NAME", locale=locale)),
        c("find", gettext("Search items: /find WORD", locale=locale)),
        c("plans", gettext("Loaded plans", locale=locale)),
        c("units", gettext("Units and their liaisons", locale=locale)),
        c("confirm", gettext("Confirm done: /confirm REF [UNIT]", locale=locale)),
        c("return", gettext("Send back: /return REF [UNIT] reason", locale=locale)),
        c("approve", gettext("Approve an extension: /approve REF", locale=locale)),
        c("deny", gettext("Deny an extension: /deny REF reason", locale=locale)),
        c("remind", gettext("Chase now: /remind REF [UNIT]", locale=locale)),
        c("export", gettext("The ledger as .xlsx", locale=locale)),
        c("import", gettext("Load a plan document", locale=locale)),
        c("withdraw", gettext("Withdraw a plan: /withdraw CODE", locale=locale)),
        c("invite", gettext("Invite: /invite UNIT [NAME]", locale=locale)),
        c("revoke", gettext("Withdraw an invitation: /revoke TOKEN", locale=locale)),
        c("revoke_access", gettext("End access: /revoke_access [UNIT] [NAME]", locale=locale)),
        *base_commands(locale),
    ]


async def clear_coordinator_commands(bot: Bot, chat_id: int) -> None:
    """Drop a chat's coordinator menu (they coordinate nothing any more): it falls back to the
    default one. Best effort, like `register_commands`."""
    for language_code in (None, *MENU_LANGUAGES):
        try:
            await bot.delete_my_commands(
                scope=BotCommandScopeChat(chat_id=chat_id),
                language_code=language_code,
            )
        except Exception as exc:  # best effort: the menu is a convenience, not access
            log.warning("deleteMyCommands failed for chat %s: %s", chat_id, exc)
            return


async def register_commands(
    bot: Bot, *, default_locale: str, coordinator_chat_ids: Iterable[int] = ()
) -> int:
    """Set the menus; returns how many setMyCommands calls succeeded. Failures are logged
    (a chat the bot cannot reach yet must not stop start-up)."""
    done = 0
    scopes: list[
        tuple[BotCommandScopeDefault | BotCommandScopeChat, Callable[[str], list[BotCommand]]]
    ] = [(BotCommandScopeDefault(), base_commands)]
    scopes += [
        (BotCommandScopeChat(chat_id=cid), coordinator_commands)
        for cid in dict.fromkeys(coordinator_chat_ids)
    ]
    for scope, build in scopes:
        variants: list[tuple[str | None, str]] = [(None, default_locale)]
        variants += list(MENU_LANGUAGES.items())
        for language_code, locale in variants:
            try:
                await bot.set_my_commands(
                    build(locale),
                    scope=scope,
                    language_code=language_code,
                )
                done += 1
            except Exception as exc:  # best effort: a chat the bot cannot reach yet
                log.warning("setMyCommands failed for %s: %s", scope, exc)
                break  # the other languages of this scope would fail the same way
    return done
