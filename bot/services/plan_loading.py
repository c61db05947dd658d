"""Plans loaded without stalling the event loop: the start-up reload of tasks_data and the
confirmed /import upload.

Both run in a worker THREAD with its own event loop, engine and session (`ThreadRunner`): the
plan files are written and read by bot.importer.yaml_emit / yaml_fast and loaded by
bot.storage.loader, all Python that gives the GIL back every few milliseconds (pydantic's
validation goes a slice of entries at a time), so the bot's loop keeps answering (tests/
heartbeat.py: worst stall ~10 ms while 10,000 items load). A thread costs no process start and
nothing is pickled: a 10,000-item upload is confirmed in ~1 s this way, where the child process
this replaced took ~12 s (its start, imports and its own engine).

One case still goes to a child PROCESS (bot.services.parse_runner's forkserver child): a plan
file over `PROCESS_BYTES` that only PyYAML can read (edited by hand beyond what the writer
writes), since libyaml holds the GIL for up to 0.25 s at a time; the child gets paths and
returns counts, and its log records come back with its answer and are logged here, under their
own logger names. An in-memory SQLite database (tests), which no other engine can open, is
loaded on this loop.

The reload itself (bot.services.plan_reload, then bot.services.plan_withdraw.withdraw_missing:
a plan whose file left tasks_data/plans is withdrawn) is the same either way.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.core.errors import InvalidInput
from bot.heap import collector_paused
from bot.services.plan_reload import StartupLoad, load_plan_files
from bot.services.plan_withdraw import withdraw_missing
from bot.storage.loader import PlanLoadResult
from bot.storage.withdraw import PlanArchive

log = logging.getLogger(__name__)

PROCESS_BYTES = 128 * 1024  # a longer plan file that only PyYAML reads: a child process reads it


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


def _in_background(func: Any, *args: Any) -> Any:
    """`func(*args)` in this worker thread, without the cyclic garbage collector meanwhile.

    A load builds ~10^6 objects (a 10,000-item plan, its rows); the collector's full passes
    over them (three of 54–75 ms each) hold the GIL, so the loop's thread would wait for them:
    the collector is paused until the load ends (reference counting still frees what the load
    drops; it is paused for the whole process: bot.heap.collector_paused)."""
    with collector_paused():
        return func(*args)


async def off_loop(func: Any, *args: Any) -> Any:
    """`func(*args)` in a worker thread (`_in_background`)."""
    return await asyncio.to_thread(_in_background, func, *args)


class ThreadRunner:
    """`await runner.run(func, *args)`: `func(*args)` in a worker thread (`off_loop`); `func`
    opens its own event loop and engine (`reload_job`, `commit_job`). Errors come back as
    raised."""

    async def run(self, func: Any, *args: Any) -> Any:
        return await off_loop(func, *args)


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
    slow_limit: int | None = None,
) -> FolderLoad:
    from bot.importer.yaml_io import read_plans_dir

    out = FolderLoad()
    try:
        if parse_in_thread:
            plans = await asyncio.to_thread(read_plans_dir, folder, slow_limit=slow_limit)
        else:
            plans = read_plans_dir(folder, slow_limit=slow_limit)
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


async def _reload_with_engine(
    database_url: str,
    folder: str,
    directory: Any,
    at: datetime,
    default_locale: str,
    slow_limit: int | None,
) -> FolderLoad:
    from bot.storage.db import make_engine, make_session_maker

    engine = make_engine(database_url)
    try:
        return await _reload(
            make_session_maker(engine),
            Path(folder),
            directory,
            at=at,
            default_locale=default_locale,
            parse_in_thread=False,
            slow_limit=slow_limit,
        )
    finally:
        await engine.dispose()


def thread_reload_job(
    database_url: str,
    folder: str,
    directory: Any,
    at: datetime,
    default_locale: str,
    slow_limit: int | None,
) -> FolderLoad:
    """The worker thread's body: its own loop and engine. Raises NeedsPyYAML (before writing
    anything) when a file over `slow_limit` needs PyYAML."""
    return asyncio.run(
        _reload_with_engine(database_url, folder, directory, at, default_locale, slow_limit)
    )


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))


def reload_job(
    database_url: str, folder: str, directory: Any, at: datetime, default_locale: str
) -> FolderLoad:
    """The child process's body (bot.services.parse_runner runs it): its own engine; its log
    records are sent back with the answer."""
    handler = _Records()
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        out = asyncio.run(
            _reload_with_engine(database_url, folder, directory, at, default_locale, None)
        )
    finally:
        root.removeHandler(handler)
    out.in_process = False
    out.logs = handler.records
    return out


def load_runner() -> ThreadRunner:
    """The runner of confirmed uploads (bot.services.import_review): a worker thread."""
    return ThreadRunner()


def process_runner() -> Any:
    """A child-process runner for a reload PyYAML must read: no time limit, no memory cap (a
    load is the operator's own files, not an upload)."""
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
    event loop (module docstring); `runner`: the child-process runner for files only PyYAML
    reads (process_runner() when None). Raises PlanFilesError when a file cannot be used."""
    from bot.importer.yaml_io import NeedsPyYAML

    url = child_url(session_maker)
    if url is None:  # an in-memory database: only this engine sees it
        out = await _reload(
            session_maker,
            folder,
            directory,
            at=at,
            default_locale=default_locale,
            parse_in_thread=True,
        )
    else:
        try:
            out = await off_loop(
                thread_reload_job, url, str(folder), directory, at, default_locale, process_bytes
            )
        except NeedsPyYAML as exc:
            log.info("%s is read by PyYAML in a child process", exc.path)
            runner = runner or process_runner()
            out = await runner.run(reload_job, url, str(folder), directory, at, default_locale)
            for name, level, message in out.logs:
                logging.getLogger(name).log(level, "%s", message)
    if out.error:
        raise PlanFilesError(out.error)
    return out


_WHITE = " \t\n\r"


def decode_json(text: str, *, depth: int) -> Any:
    """`json.loads(text)`, with the objects and arrays of the first `depth` levels walked in
    Python and only what lies below decoded by one C call each (`json.loads` of a
    10,000-item upload would hold the GIL for 25–45 ms at once)."""
    value, end = _decode(text, _skip(text, 0), depth, json.JSONDecoder())
    if _skip(text, end) != len(text):
        raise ValueError("extra data after the JSON value")
    return value


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WHITE:
        pos += 1
    return pos


def _decode(text: str, pos: int, depth: int, decoder: json.JSONDecoder) -> tuple[Any, int]:
    opening = text[pos : pos + 1]
    if depth <= 0 or opening not in ("{", "["):
        return decoder.raw_decode(text, pos)
    closing = "}" if opening == "{" else "]"
    out: Any = {} if opening == "{" else []
    pos = _skip(text, pos + 1)
    if text[pos : pos + 1] == closing:
        return out, pos + 1
    while True:
        if opening == "{":
            key, pos = decoder.raw_decode(text, pos)
            pos = _skip(text, pos)
            if text[pos : pos + 1] != ":" or not isinstance(key, str):
                raise ValueError(f"expected ':' at {pos}")
            out[key], pos = _decode(text, _skip(text, pos + 1), depth - 1, decoder)
        else:
            item, pos = _decode(text, pos, depth - 1, decoder)
            out.append(item)
        pos = _skip(text, pos)
        mark = text[pos : pos + 1]
        if mark == closing:
            return out, pos + 1
        if mark != ",":
            raise ValueError(f"expected ',' or {closing!r} at {pos}")
        pos = _skip(text, pos + 1)


def commit_job(
    database_url: str,
    token: str,
    directory: Any,
    tasks_data: str,
    at: datetime,
    replace: bool,
) -> tuple[PlanLoadResult, Any]:
    """Confirming an upload (bot.services.import_review) in a worker thread (`ThreadRunner`)
    or a child process: read the reviewed plan of upload `token`, write its YAML and load it
    (bot.services.plan_upload.commit_plan), with its own event loop and engine. Returns (the
    load's result, the plan it replaced or None); raises ServiceError (plan_code_taken,
    upload_expired), which a child process reports as ParseRejected."""
    from sqlalchemy import Text, cast
    from sqlmodel import col, select

    from bot.core.plan import plan_from_dict
    from bot.services.errors import ServiceError
    from bot.services.plan_upload import commit_plan, existing_plan
    from bot.storage.db import make_engine, make_session_maker
    from bot.storage.models import PendingImport

    column: Any = PendingImport.plan  # the mapped attribute
    query = select(cast(column, Text)).where(col(PendingImport.token) == token)

    async def run() -> tuple[PlanLoadResult, Any]:
        engine = make_engine(database_url)
        try:
            session_maker = make_session_maker(engine)
            async with session_maker() as session:
                text = (await session.exec(query)).first()
                upload = decode_json(text, depth=3) if text else None
                if not upload or not upload.get("plan"):
                    raise ServiceError("upload_expired")
                plan = plan_from_dict(upload["plan"])
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
