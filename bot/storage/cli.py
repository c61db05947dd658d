"""`python -m bot load [PATH…]`, `python -m bot migrate` and `python -m bot copy-db FROM TO`:
the storage commands.

Exit status: 0 done; 2 bad input (unreadable or invalid YAML, unknown path, a database that
cannot be migrated safely), with one line on stderr naming the file (and line / field); 1 a
database error. Loading reads and checks every file before the database is touched, and writes
all plans in one transaction, so a failure leaves nothing half-loaded.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings, SettingsError, load_settings
from bot.core.errors import DubanError
from bot.core.plan import Plan
from bot.storage.loader import LoadError, LoadReport, PlanLoadResult, load_plans
from bot.storage.migrate import MigrationError, current_revision, upgrade_database

TITLE_WIDTH = 12


class InputError(DubanError):
    """A path given to `load` cannot be used; the message names it."""


def _settings(args: argparse.Namespace) -> Settings:
    url = getattr(args, "database_url", None)
    return load_settings(database_url=url) if url else load_settings()


def _load_instant(settings: Settings) -> datetime:
    """When the load happens: the configured clock start (demos run on a virtual clock that
    starts there), else now."""
    if settings.clock.start is not None:
        return settings.clock.start.astimezone(UTC)
    from bot.clock import SystemClock

    return SystemClock().now()


def read_plans(paths: Iterable[Path]) -> list[Plan]:
    """Plans from YAML files and directories of plan YAMLs (a tasks_data folder means its
    `plans/`). Raises InputError or the importer's PlanInputError naming the file."""
    paths = list(paths)
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or directory")
    from bot.importer.yaml_io import read_plan_yaml, read_plans_dir

    plans: list[Plan] = []
    for path in paths:
        if path.is_dir():
            folder = path / "plans" if (path / "plans").is_dir() else path
            found = read_plans_dir(folder)
            if not found:
                raise InputError(f"{folder}: no plan YAML files here")
            plans.extend(found)
        else:
            plans.append(read_plan_yaml(path))
    seen: dict[str, str] = {}
    for plan in plans:
        if plan.info.code in seen:
            raise InputError(
                f"plan code {plan.info.code} is given twice ({seen[plan.info.code]}, "
                f"{plan.info.source or '?'})"
            )
        seen[plan.info.code] = plan.info.source or "?"
    return plans


def _read_directory(settings: Settings) -> Any:
    from bot.core.units import load_unit_directory

    path = settings.data.tasks_data / "units.yaml"
    return load_unit_directory(path if path.exists() else None)


def _input_errors() -> tuple[type[BaseException], ...]:
    from bot.core.units import UnitDirectoryError
    from bot.importer.errors import PlanInputError

    return (
        InputError,
        SettingsError,
        LoadError,
        MigrationError,
        PlanInputError,
        UnitDirectoryError,
    )


def _short(title: str) -> str:
    return title if len(title) <= TITLE_WIDTH else title[:TITLE_WIDTH] + "…"


def format_result(result: PlanLoadResult) -> str:
    """One line per plan, e.g. `SR 上饶市… : 29 tasks, 48 key projects, 0 indicators,
    612 assignments (new 612, archived 0)`."""
    head = (
        f"{result.code} {_short(result.title)} : {result.tasks} tasks, "
        f"{result.key_projects} key projects, {result.indicators} indicators, "
        f"{result.assignments} assignments"
    )
    if result.skipped:
        return f"{head} (unchanged)"
    a = result.assignment_changes
    parts = [f"new {a.created}", f"archived {a.archived}"]
    if a.restored:
        parts.append(f"restored {a.restored}")
    if result.due_changes:
        parts.append(f"due changed {result.due_changes}")
    items = result.items
    if not result.new_plan:
        counts = [("new", items.created), ("changed", items.updated)]
        counts += [("archived", items.archived), ("restored", items.restored)]
        changed = [f"{n} {word}" for word, n in counts if n]
        if changed:
            parts.append(f"items: {' '.join(changed)}")
    if result.unknown_units:
        parts.append(f"unknown units {len(result.unknown_units)}")
    return f"{head} ({', '.join(parts)})"


def format_report(report: LoadReport) -> list[str]:
    return [format_result(r) for r in report.plans]


# After a load of the whole folder: (session maker, codes loaded, instant, locale) → lines to
# print (the CLI passes bot.plan_cli's withdrawal of the plans whose file is gone).
AfterLoad = Callable[[Any, set[str], datetime, str], Awaitable[list[str]]]


async def _load(
    database_url: str,
    plans: list[Plan],
    directory: Any,
    at: datetime,
    after: AfterLoad | None = None,
    locale: str = "zh_CN",
) -> tuple[LoadReport, list[str]]:
    from bot.storage.db import make_engine, make_session_maker

    await upgrade_database(database_url)
    engine = make_engine(database_url)
    try:
        session_maker = make_session_maker(engine)
        report = await load_plans(session_maker, plans, directory, at=at)
        lines: list[str] = []
        if after is not None:
            lines = await after(session_maker, {p.info.code for p in plans}, at, locale)
        return report, lines
    finally:
        await engine.dispose()


def run_load(args: argparse.Namespace, *, after: AfterLoad | None = None) -> int:
    """`python -m bot load [PATH…] [--database-url URL]`; returns the exit status. Without
    paths (the whole tasks_data/plans folder) `after` runs too (it withdraws the plans whose
    file is gone)."""
    errors = _input_errors()
    try:
        settings = _settings(args)
        directory = _read_directory(settings)
        whole = not args.paths
        plans = read_plans(list(args.paths or []) or [settings.data.tasks_data / "plans"])
        at = _load_instant(settings)
        report, lines = asyncio.run(
            _load(
                settings.database.url,
                plans,
                directory,
                at,
                after if whole else None,
                settings.bot.default_locale,
            )
        )
    except errors as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"database error: {exc}", file=sys.stderr)
        return 1
    for line in [*format_report(report), *lines]:
        print(line)
    return 0


async def _migrate(database_url: str) -> str | None:
    await upgrade_database(database_url)
    return await current_revision(database_url)


def run_migrate(args: argparse.Namespace) -> int:
    """`python -m bot migrate [--database-url URL]`; returns the exit status."""
    try:
        settings = _settings(args)
        revision = asyncio.run(_migrate(settings.database.url))
    except (SettingsError, MigrationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"database error: {exc}", file=sys.stderr)
        return 1
    where = make_url(settings.database.url).render_as_string(hide_password=True)
    print(f"database {where} at revision {revision}")
    return 0


def run_copy_db(args: argparse.Namespace) -> int:
    """`python -m bot copy-db FROM_URL TO_URL` (bot.storage.copy); returns the exit status."""
    from bot.storage.copy import CopyError, copy_database

    def progress(table: str, rows: int) -> None:
        print(f"{table}: {rows} rows")

    try:
        report = asyncio.run(copy_database(args.source, args.target, progress=progress))
    except (CopyError, MigrationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"database error: {exc}", file=sys.stderr)
        return 1
    where = make_url(args.target).render_as_string(hide_password=True)
    print(f"copied {report.total} rows of {len(report.rows)} tables to {where}; counts checked")
    return 0
