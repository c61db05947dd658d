"""`python -m bot people list | remove | add-admin`: who has access, from the operator's shell.

    people list [--all]                      active memberships (--all: ended ones too, with
                                             when, by whom and how)
    people remove ID [--role R] [--unit U] [--plan P]
                                             end a person's memberships (all, or those named)
    people add-admin ID [--name NAME]        a coordinator of all plans, kept across restarts

ID is the Telegram user id. Ending is recorded, never a deletion. Admin roles from ADMIN_IDS
are governed by ADMIN_IDS alone (take the id out and restart). Exit status: 0 done; 2 bad
input, with one line on stderr; 1 a database error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.core.errors import DubanError
from bot.services.errors import ServiceError
from bot.storage.models import ROLE_COORDINATOR, ROLE_LEADER, ROLE_LIAISON

ROLES = (ROLE_LIAISON, ROLE_LEADER, ROLE_COORDINATOR)
HEADER = ("telegram_id", "name", "role", "scope", "source", "since", "ended", "ended_by")


class BadInput(DubanError):
    """One line for the operator."""


def add_parser(sub: Any) -> None:
    """The `people` subcommand and its own subcommands."""
    p = sub.add_parser("people", help="who has access: list, remove, add-admin")
    p.add_argument("--database-url", dest="database_url")
    actions = p.add_subparsers(dest="people_command")
    q = actions.add_parser("list", help="active memberships (--all: ended ones too)")
    q.add_argument("--all", action="store_true", dest="include_ended")
    q = actions.add_parser("remove", help="end a person's memberships")
    q.add_argument("telegram_id", help="the person's Telegram user id")
    q.add_argument("--role", help="only this role: liaison, leader or coordinator")
    q.add_argument("--unit", help="only the role over this unit")
    q.add_argument("--plan", help="only the role over this plan (code)")
    q = actions.add_parser("add-admin", help="make someone a coordinator of all plans")
    q.add_argument("telegram_id", help="the person's Telegram user id")
    q.add_argument("--name", default="")


def _telegram_id(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise BadInput(f"{text!r} is not a Telegram user id (a positive number)") from None
    if value <= 0:
        raise BadInput(f"{text!r} is not a Telegram user id (a positive number)")
    return value


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


def _scope(m: Any) -> str:
    if m.unit_name:
        return m.unit_name
    if m.plan_code:
        return f"plan {m.plan_code}"
    return "all plans"


def format_members(members: list[Any], *, include_ended: bool) -> list[str]:
    """Tab-separated lines, a header first."""
    header = HEADER if include_ended else HEADER[:6]
    lines = ["\t".join(header)]
    for m in members:
        row = [
            str(m.telegram_id or ""),
            m.name,
            m.role,
            _scope(m),
            m.source or "?",
            _when(m.since),
        ]
        if include_ended:
            row += [_when(m.ended_at), m.ended_by]
        lines.append("\t".join(row))
    return lines


async def _with_session(database_url: str, work: Callable[[Any], Any]) -> Any:
    from bot.storage.db import make_engine, make_session_maker
    from bot.storage.migrate import upgrade_database

    await upgrade_database(database_url)
    engine = make_engine(database_url)
    try:
        async with make_session_maker(engine)() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


async def _unit_id(session: Any, settings: Any, name: str | None) -> int | None:
    if not name:
        return None
    from bot.services.lookup import find_units
    from bot.storage.cli import _read_directory

    units = await find_units(session, _read_directory(settings), name)
    if not units:
        raise BadInput(f"no unit called {name}")
    if len(units) > 1:
        names = ", ".join(u.name for u in units[:8])
        raise BadInput(f"{name} may mean: {names}; give the full name")
    return units[0].id


async def _plan_id(session: Any, code: str | None) -> int | None:
    if not code:
        return None
    from bot.services.lookup import plan_by_code

    plan = await plan_by_code(session, code)
    if plan is None:
        raise BadInput(f"no plan with code {code}")
    return plan.id


_REFUSALS = {
    "person_unknown": "no person with Telegram id {telegram_id} (see `people list`)",
    "nothing_to_remove": "Telegram id {telegram_id} has no active membership matching that",
    "member_is_admin": "{name} is an admin from ADMIN_IDS: take the id out of ADMIN_IDS and "
    "restart the bot",
}


def _execute(args: argparse.Namespace, settings: Any, at: datetime) -> list[str]:
    from bot.services import access, admins, members

    command = args.people_command
    if command == "list":

        async def listing(session: Any) -> list[str]:
            found = await members.everyone(session, include_ended=args.include_ended)
            return format_members(found, include_ended=args.include_ended)

        return asyncio.run(_with_session(settings.database.url, listing))
    telegram_id = _telegram_id(args.telegram_id)
    if command == "add-admin":

        async def adding(session: Any) -> list[str]:
            person, new = await admins.add_admin(session, telegram_id, at=at, name=args.name)
            who = f"{telegram_id} ({person.name})" if person.name else str(telegram_id)
            if not new:
                return [f"{who} already coordinates all plans"]
            return [
                f"{who} now coordinates all plans (kept across restarts; end it with "
                f"`people remove {telegram_id} --role coordinator`)"
            ]

        return asyncio.run(_with_session(settings.database.url, adding))
    if args.role is not None and args.role not in ROLES:
        raise BadInput(f"--role {args.role}: use one of {', '.join(ROLES)}")

    async def removing(session: Any) -> list[str]:
        removal = await access.remove_person(
            session,
            telegram_id,
            at=at,
            role=args.role,
            unit_id=await _unit_id(session, settings, args.unit),
            plan_id=await _plan_id(session, args.plan),
        )
        lines = [f"ended: {telegram_id} {m.name} {m.role} of {_scope(m)}" for m in removal.ended]
        lines += [
            f"kept: {telegram_id} {m.name} {m.role} of {_scope(m)} (from ADMIN_IDS: take "
            "the id out of ADMIN_IDS and restart)"
            for m in removal.kept_admin
        ]
        return lines

    return asyncio.run(_with_session(settings.database.url, removing))


def run_people(args: argparse.Namespace) -> int:
    """`python -m bot people …`; returns the exit status."""
    from bot.config import SettingsError
    from bot.storage.cli import _load_instant, _settings
    from bot.storage.migrate import MigrationError

    if args.people_command is None:
        print("error: say what to do: people list | remove ID | add-admin ID", file=sys.stderr)
        return 2
    try:
        settings = _settings(args)
        lines = _execute(args, settings, _load_instant(settings))
    except (BadInput, SettingsError, MigrationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ServiceError as exc:
        print(f"error: {_REFUSALS.get(exc.code, exc.code).format(**exc.params)}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"database error: {exc}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0
