"""`python -m bot withdraw CODE` and `python -m bot restore CODE`: a plan taken out of the
ledger (撤回) and brought back, from the operator's shell (bot.services.plan_withdraw).

    withdraw CODE [--note TEXT]   archive the plan with all its assignments in one transaction;
                                  its pending messages are cancelled, its file moves from
                                  tasks_data/plans to tasks_data/withdrawn; history is kept
    restore CODE                  bring it back as it was (its file moves back to plans/)

Also the withdrawal half of `python -m bot load` without paths: the plans whose file is no
longer in tasks_data/plans are withdrawn (`withdraw_missing_after_load`). Exit status: 0 done;
2 bad input (no such plan, already in that state, no file to restore from), one line on
stderr; 1 a database error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.services.errors import ServiceError

ACTOR_CLI = "cli"

REFUSALS = {
    "unknown_plan": "no plan with code {plan}",
    "plan_already_withdrawn": "plan {plan} is already withdrawn (`python -m bot restore {plan}`)",
    "plan_not_withdrawn": "plan {plan} is not withdrawn",
    "plan_file_missing": (
        "plan {plan} has no file in tasks_data/withdrawn or {folder}: put its YAML file in "
        "{folder} (the next start restores it) or restore it from there with this command"
    ),
}


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("withdraw", help="withdraw a plan: archive it with all its assignments")
    p.add_argument("code", help="the plan's code, e.g. SR")
    p.add_argument("--note", default="", help="why (kept in the plan's history)")
    p.add_argument("--database-url", dest="database_url")
    p = sub.add_parser("restore", help="bring a withdrawn plan back with its history")
    p.add_argument("code")
    p.add_argument("--database-url", dest="database_url")


def refusal(exc: ServiceError) -> str:
    template = REFUSALS.get(exc.code)
    if template is None:
        return exc.code
    return template.format(**{k: str(v) for k, v in exc.params.items()})


async def _run(
    command: str, database_url: str, code: str, tasks_data: Any, at: datetime, note: str
) -> str:
    from bot.services import plan_withdraw
    from bot.storage.db import make_engine, make_session_maker
    from bot.storage.migrate import upgrade_database

    await upgrade_database(database_url)
    engine = make_engine(database_url)
    try:
        session_maker = make_session_maker(engine)
        act = plan_withdraw.withdraw if command == "withdraw" else plan_withdraw.restore
        done = await act(
            session_maker, code, at=at, tasks_data=tasks_data, actor_label=ACTOR_CLI, note=note
        )
    finally:
        await engine.dispose()
    a = done.archive
    where = f"; file: {done.file}" if done.file else "; it had no file in tasks_data"
    if command == "withdraw":
        return (
            f"{a.code} {a.title}: withdrawn, {a.items} items and {a.assignments} assignments "
            f"archived, {a.outbox} pending messages cancelled{where}"
        )
    return f"{a.code} {a.title}: restored, {a.items} items and {a.assignments} assignments{where}"


def run_plan_command(args: argparse.Namespace) -> int:
    """`python -m bot withdraw|restore CODE`; returns the exit status."""
    from bot.config import SettingsError
    from bot.storage.cli import _load_instant, _settings

    try:
        settings = _settings(args)
        line = asyncio.run(
            _run(
                args.command,
                settings.database.url,
                args.code,
                settings.data.tasks_data,
                _load_instant(settings),
                getattr(args, "note", "") or "",
            )
        )
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ServiceError as exc:
        print(f"error: {refusal(exc)}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"database error: {exc}", file=sys.stderr)
        return 1
    print(line)
    return 0


async def withdraw_missing_after_load(
    session_maker: Any, codes: set[str], at: datetime, default_locale: str
) -> list[str]:
    """`python -m bot load` of the whole folder: withdraw the plans it has no file for."""
    from bot.services.plan_withdraw import withdraw_missing

    done = await withdraw_missing(session_maker, codes, at=at, default_locale=default_locale)
    return [
        f"{a.code} {a.title}: withdrawn (no file in tasks_data/plans), {a.assignments} "
        f"assignments archived, {a.outbox} pending messages cancelled"
        for a in done
    ]
