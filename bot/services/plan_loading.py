"""Plan files loaded without stalling the event loop: the start-up reload of tasks_data.

libyaml's parser (`yaml.compose` with CSafeLoader) and emitter run in C without letting go of
the GIL: a 2.8 MB plan (10,000 items) holds it for 0.5–0.7 s at a time, so a worker THREAD
would stall the bot as much as the loop itself (measured: 645 ms gaps; sys.setswitchinterval
cannot interrupt C code). So the reload runs in a child PROCESS (bot.services.parse_runner's
forkserver child, with its own engine and session) when any plan file is over
`PROCESS_BYTES`; it gets paths and returns counts, so nothing large is pickled on the loop.
Smaller folders (the usual deployment: a few plans of some 100 KB) are parsed in a thread
(each file holds the GIL for at most ~30 ms) and loaded in this process, which saves the
child's start (about a second) at every start-up.

The reload itself (bot.services.plan_reload, then bot.services.plan_withdraw.withdraw_missing:
a plan whose file left tasks_data/plans is withdrawn) is the same either way. The child's log
records come back with its answer and are logged here, under their own logger names.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.core.errors import InvalidInput
from bot.services.plan_reload import StartupLoad, load_plan_files
from bot.services.plan_withdraw import withdraw_missing
from bot.storage.loader import PlanLoadResult
from bot.storage.withdraw import PlanArchive

log = logging.getLogger(__name__)

PROCESS_BYTES = 128 * 1024  # a plan file larger than this: the reload runs in a child process


class PlanFilesError(InvalidInput):
    """A plan file of tasks_data cannot be loaded (the message names it); nothing was loaded."""


@dataclass
class FolderLoad:
    """What the reload of a plans folder did."""

    files: int = 0  # plan files read
    results: list[PlanLoadResult] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # codes not loaded (they would shrink a lot)
    withdrawn: list[PlanArchive] = field(default_factory=list)  # their file left the folder
    in_process: bool = True  # False: a child process did the work
    error: str = ""  # a PlanFilesError's message, raised by the caller's side
    logs: list[tuple[str, int, str]] = field(default_factory=list)  # the child's records


def needs_process(folder: Path, limit: int = PROCESS_BYTES) -> bool:
    """Whether a plan file of `folder` is large enough to parse in a child process."""
    return any(p.stat().st_size > limit for p in Path(folder).glob("*.yaml"))


def child_url(session_maker: Any) -> str | None:
    """The database URL a child process can open for the same database (password included);
    None for an in-memory SQLite database, which only this process can see."""
    engine = session_maker.kw.get("bind")
    if engine is None:
        return None
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    return str(url.render_as_string(hide_password=False))


async def _reload(
    session_maker: Any,
    folder: Path,
    directory: Any,
    *,
    at: datetime,
    default_locale: str,
    parse_in_thread: bool,
) -> FolderLoad:
    from bot.importer.yaml_io import read_plans_dir

    out = FolderLoad()
    try:
        if parse_in_thread:
            plans = await asyncio.to_thread(read_plans_dir, folder)
        else:
            plans = read_plans_dir(folder)
    except InvalidInput as exc:
        out.error = str(exc)
        return out
    out.files = len(plans)
    if not plans:
        return out
    loaded: StartupLoad = await load_plan_files(
        session_maker, plans, directory, at=at, default_locale=default_locale
    )
    out.results = list(loaded.report.plans)
    out.held = [s.code for s in loaded.held]
    out.withdrawn = await withdraw_missing(
        session_maker, {p.info.code for p in plans}, at=at, default_locale=default_locale
    )
    return out


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))


def reload_job(
    database_url: str, folder: str, directory: Any, at: datetime, default_locale: str
) -> FolderLoad:
    """The child process's body (bot.services.parse_runner runs it): its own engine."""
    from bot.storage.db import make_engine, make_session_maker

    handler = _Records()
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    async def run() -> FolderLoad:
        engine = make_engine(database_url)
        try:
            return await _reload(
                make_session_maker(engine),
                Path(folder),
                directory,
                at=at,
                default_locale=default_locale,
                parse_in_thread=False,
            )
        finally:
            await engine.dispose()

    try:
        out = asyncio.run(run())
    finally:
        root.removeHandler(handler)
    out.in_process = False
    out.logs = handler.records
    return out


def load_runner() -> Any:
    """A child-process runner for loads: no time limit, no memory cap (a load is the operator's
    own files, not an upload)."""
    from bot.services.parse_runner import ProcessParser

    return ProcessParser(timeout=None, memory_limit=None)


async def reload_folder(
    session_maker: Any,
    folder: Path,
    directory: Any,
    *,
    at: datetime,
    default_locale: str,
    runner: Any = None,
    process_bytes: int = PROCESS_BYTES,
) -> FolderLoad:
    """Load the plan files of `folder` and withdraw the plans whose file left it, off the
    event loop (module docstring). Raises PlanFilesError when a file cannot be used."""
    url = child_url(session_maker)
    if url is not None and needs_process(folder, process_bytes):
        runner = runner or load_runner()
        out: FolderLoad = await runner.run(
            reload_job, url, str(folder), directory, at, default_locale
        )
        for name, level, message in out.logs:
            logging.getLogger(name).log(level, "%s", message)
    else:
        out = await _reload(
            session_maker,
            folder,
            directory,
            at=at,
            default_locale=default_locale,
            parse_in_thread=True,
        )
    if out.error:
        raise PlanFilesError(out.error)
    return out


def commit_job(
    database_url: str,
    token: str,
    directory: Any,
    tasks_data: str,
    at: datetime,
    replace: bool,
) -> tuple[PlanLoadResult, Any]:
    """The child's side of confirming an upload (bot.services.import_review): read the
    reviewed plan of upload `token`, write its YAML and load it (bot.services.plan_upload.
    commit_plan), with its own engine. Returns (the load's result, the plan it replaced or
    None); ServiceErrors (plan_code_taken, upload_expired) reach the parent as ParseRejected."""
    from sqlmodel import select

    from bot.core.plan import plan_from_dict
    from bot.services.errors import ServiceError
    from bot.services.plan_upload import commit_plan, existing_plan
    from bot.storage.db import make_engine, make_session_maker
    from bot.storage.models import PendingImport

    async def run() -> tuple[PlanLoadResult, Any]:
        engine = make_engine(database_url)
        try:
            session_maker = make_session_maker(engine)
            async with session_maker() as session:
                row = (
                    await session.exec(select(PendingImport).where(PendingImport.token == token))
                ).first()
                if row is None or not row.plan:
                    raise ServiceError("upload_expired")
                plan = plan_from_dict(row.plan["plan"])
                replaced = await existing_plan(session, plan.info.code) if replace else None
            result = await commit_plan(
                plan,
                session_maker=session_maker,
                directory=directory,
                tasks_data=Path(tasks_data),
                at=at,
                replace=replace,
            )
            return result, replaced
        finally:
            await engine.dispose()

    return asyncio.run(run())
