"""Command line: `python -m bot [run|import|show|load|migrate|copy-db|simulate|people|
withdraw|restore]`.

Each subcommand parses its arguments and calls one function; with no subcommand the bot runs
(local mode when no BOT_TOKEN is set). Exit status 2 means bad input, with one clear line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="督办助手")
    sub = parser.add_subparsers(dest="command")

    sub.add_parser("run", help="run the bot (local mode when BOT_TOKEN is not set)")

    p = sub.add_parser("import", help="read a plan document and print or write its task list")
    p.add_argument("file")
    p.add_argument("--code", help="plan code, the prefix of every ref (e.g. SR)")
    p.add_argument("--default-unit", dest="default_unit", help="unit for items that name none")
    p.add_argument(
        "--year",
        type=int,
        help="the plan's year: dates without a year are read in "
        "it (overrides the document; default: the document's, else this year)",
    )
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the task list as JSON")
    out.add_argument("-o", "--output", help="write the reviewed YAML here")

    p = sub.add_parser("show", help="summarise a plan (code in tasks_data, or a file)")
    p.add_argument("target", nargs="?")
    p.add_argument("--tasks-data", dest="tasks_data", type=Path, default=Path("tasks_data"))

    p = sub.add_parser("load", help="upsert plans into the database (default tasks_data/)")
    p.add_argument("paths", nargs="*", type=Path)
    p.add_argument("--database-url", dest="database_url")

    p = sub.add_parser("migrate", help="create or upgrade the database in place")
    p.add_argument("--database-url", dest="database_url")

    p = sub.add_parser(
        "copy-db",
        help="copy every row of the database to another, empty one (e.g. SQLite to PostgreSQL)",
    )
    p.add_argument(
        "source", metavar="FROM_URL", help="e.g. sqlite+aiosqlite:///data/duban.sqlite3"
    )
    p.add_argument(
        "target", metavar="TO_URL", help="e.g. postgresql+asyncpg://duban@db:5432/duban"
    )

    p = sub.add_parser("simulate", help="what the reminder policy would send, week by week")
    p.add_argument("--from", dest="date_from", required=True)
    p.add_argument("--to", dest="date_to", required=True)
    p.add_argument("--plan")
    p.add_argument("--csv")
    p.add_argument("--policy", type=Path)
    p.add_argument("--tasks-data", dest="tasks_data", type=Path, default=Path("tasks_data"))

    from bot.people_cli import add_parser as add_people_parser
    from bot.plan_cli import add_parsers as add_plan_parsers

    add_people_parser(sub)
    add_plan_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = args.command or "run"
    if command == "import":
        from bot.importer.cli import run_import

        return run_import(args)
    if command == "show":
        from bot.importer.cli import run_show

        return run_show(args)
    if command == "load":
        from bot.plan_cli import withdraw_missing_after_load
        from bot.storage import cli as storage_cli

        return storage_cli.run_load(args, after=withdraw_missing_after_load)
    if command == "migrate":
        from bot.storage import cli as storage_cli

        return storage_cli.run_migrate(args)
    if command in ("withdraw", "restore"):
        from bot.plan_cli import run_plan_command

        return run_plan_command(args)
    if command == "copy-db":
        from bot.storage import cli as storage_cli

        return storage_cli.run_copy_db(args)
    if command == "simulate":
        from schedules.simulate import run_simulate

        return run_simulate(args)
    if command == "people":
        from bot.people_cli import run_people

        return run_people(args)
    # bare `python -m bot` may fall back to local mode; `run` (the Procfile's worker) never
    # does: a production process without its token must fail loudly
    return run(local_fallback=args.command is None)


def run(*, local_fallback: bool) -> int:
    """Start the bot; with `local_fallback`, local mode (local Bot API server, web chat) when
    no BOT_TOKEN is set and no other Bot API server is configured."""
    from bot.config import TELEGRAM_API, SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    # without a token and without another Bot API server to talk to, run everything locally
    if local_fallback and settings.bot.local_mode and settings.bot.api_base == TELEGRAM_API:
        # imported before aiogram so that the web page answers while the bot is still starting
        from bot.localmode import run_local

        return run_local(settings)
    from bot.lazy_aiogram import import_aiogram

    import_aiogram()  # before anything imports aiogram: seconds less to start
    from bot.app import run_app

    return run_app()


if __name__ == "__main__":
    sys.exit(main())
