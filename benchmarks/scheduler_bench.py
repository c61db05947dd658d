"""Scheduler figures at 10k and 100k assignments (issue 13): the tick reads only the
assignments whose next instant has come.

    .venv/bin/python benchmarks/scheduler_bench.py [N ...] [--fresh]     (default: 10000 100000)

The synthetic ledger (benchmarks/synthetic.py) as it would be on 2025-12-01 is built ONCE per
size, in a process of its own, into a database file cached in the temp directory (keyed by N
and the sources that shape it; `--fresh` rebuilds it). Every measured pass runs in a FRESH
child process that only imports the app, opens the database file and calls
`bot.services.planning.plan_due`, so the memory figure is that of a planning process: its peak
RSS (ru_maxrss from os.wait4) next to its RSS right after the imports. Each pass runs under a
heartbeat task (an asyncio task waking every millisecond; the worst gap between its wake-ups,
wall clock, is the worst event-loop stall). Passes:
- the first pass after load (Monday 10:00): every assignment's next instant computed and
  stored, every due stage written;
- the steady tick with nothing due, a minute later (median of 20 ticks of one process);
- the next morning's tick (Tuesday 09:00): the stages due that morning;
- Outbox bytes per row after the first pass (the columns' data, without indexes), and the
  size of the database file (the store).
Targets (issue 13): nothing-due tick < 5 ms at 100k, stall < 50 ms, peak RSS < 100 MB, first
pass at 100k < 5 s. Each line says ok or MISSED.

PostgreSQL: `DATABASE_URL=postgresql+asyncpg://USER@HOST:PORT/DB` (any database of that server:
administrative statements run there) builds each ledger into a database of its own on that
server, `duban_sched_ledger_<N>_<key>`, kept between runs like the file (VACUUM ANALYZEd after
the build, as autovacuum soon would), and measures the passes on a copy made with CREATE
DATABASE … TEMPLATE, dropped afterwards. The Outbox size is then PostgreSQL's own column sizes.


Measured by h13c (2 cores shared with other test runs, load 2-4; wall times vary 2x with the
load): 10k: first pass 1.4-1.7 s (1.3-1.6 s CPU), stall 34 ms, 92 MB; 100k: first pass 11-22 s
wall (10-13 s CPU), stall 61-271 ms, peak 217-222 MB; Outbox ~2.8 KB a row.

Measured by firstpass (same machine, load 2.9-3.3; the first pass read a partition at a time,
lean rows; the briefs' composer and the stored instants as of main 705528d, which alone gave
10k 0.86 s / 100k 7.8 s wall at that load): 10k: first pass 0.40-0.46 s wall (0.38 s CPU),
stall 21 ms, peak 77-79 MB; Outbox 1,075 bytes a row. 100k: first pass 3.4-3.9 s wall (3.4 s
CPU), stall 22-33 ms, peak RSS 118-127 MB (MISSED: 64 MB after imports, ~33 MB the pass's own
through store_next, ~17-20 MB the briefs' composer at the end); nothing due 1.7 ms; next
morning 84-89 ms; Outbox 10,267 rows, 1,234 bytes a row (the briefs and lists of a mostly
overdue first pass hold most of it); store 104.1 MiB (68.6 MiB before).

Measured by pgpass (the NULL rows locked instead of claimed by an UPDATE; load 3-5):
PostgreSQL 100k first pass 24-30 s -> 21-24 s wall (4.4-5.0 -> 4.1-4.7 s CPU); the server's
statement time 17.3 -> 13.8 s, of which 7-9.5 s is now store_next's one UPDATE of every row (a
new row version and ten index entries each: only next_at in a table of its own avoids that).
10k: server 1.52 -> 1.11 s (wall 1.4-2.3 s either way at that load). SQLite 100k: CPU
3.6-4.0 -> 3.25-3.55 s, wall 4.3-4.5 -> 3.7-5.1 s.

Measured by memory (same machine, load 3-4, interleaved with main 564a463's runs): the
briefs composed a few chats at a time (rows read chat by chat, ~5,000 items bundled, written
and carried before reading on) and the pass's planner, audiences and last partition freed
before the summaries, the instants and the briefs: 100k first pass peak RSS 93-95 MB (main:
114-117 MB; 65 MB after imports), 4.0-6.7 s wall and 3.7-4.1 s CPU at load 2.5-4 (main in
the same minutes: 3.7-5.5 s wall, 3.2-3.6 s CPU: the pass is 0.2-0.5 s CPU slower, about
0.15-0.2 s of it the composer, which reads the waiting rows twice, ids by chat then rows by
id, through the pass's 2 MiB page cache; alone on the same rows with that cache 0.98 s CPU,
main 0.90-0.92 s), stall 25-80 ms wall-clock at that load (main 32-61 ms); nothing due
1.8-4.1 ms, its process 71 MB peak. A bot-like process (`bot.lazy_aiogram` then `bot.app`
imported, as `python -m bot` does) is 90 MB after imports and 97 MB after 20 nothing-due ticks
on the 100k ledger (aiogram imported eagerly: 194 MB).

Measured by memory, round 2 (load 3-6; 100k ledger after its first pass, three runs each):
that bot-like process 97.9-98.0 -> 93.4-93.5 MB after 20 nothing-due ticks: the brief
composer's query read `not_before` from rows whose payload comes first, walking every
pending brief's overflow pages into the page cache (5.0 MiB of SQLite heap, 6 ms), now
answered by the index ix_outbox_status_not_before (0.6 MiB, 1 ms); its floor is the imports,
90.5-91 MB (aiogram lazily 38 MB, aiohttp 20 of it; SQLAlchemy 17; pydantic 7). With the
dispatcher's modules and the start-up migration step as `python -m bot` runs them: 107.6-107.9
-> 98.5-100.2 MB (high-water mark 139.6-140.0 -> 98.5-100.2), as start-up on a database at
head no longer imports Alembic (~7 MB) nor runs its foreign-key check through the page cache.
A digest pass as the first tick of the first bot-like process: 143 -> 110.8-111.0 MB after it
(high-water mark 153 -> 112.4-112.5; with the page cache change alone 117.4-118.4): SQLite's
page cache back to its 2 MiB default (each pooled connection had kept up to 32 MiB) and the
digest's rows read 5,000 at a time with one copy of each text (its Python peak 28.4 -> 14.2
MiB). This script, same code: first pass 4.3-7.4 s wall, 4.0-4.4 s CPU, peak 93-94
MB (unchanged); the steady tick's process 71 -> 66-67 MB, the next morning's 79 -> 71 MB. The
first pass's CPU (one run, per thread): the loop's thread ~2.2 s (brief composer, rows of
notifications, JSON), SQLite's thread ~1.4 s (next_at UPDATE of 100,000 rows 0.42 s, the
snapshot reads 0.41 s, stage marks 0.13 s), the planning worker ~0.4 s: not cut this round.

Measured by firstpass, round 2 (load 1.7-2.4; same rows written: benchmarks/pass_rows.py's
fingerprints of the Outbox, the stage marks and the stored instants are those of 2d2ad34 at
10k and 100k): the brief composer reads the waiting rows as plain tuples and the lean
payloads without making notices, lean forms are trimmed by a slice, brief lines made
without dataclasses.replace, reads are one call to aiosqlite's thread instead of three,
the instants stored straight from their groups, recipients resolved once per notification.
This script, 100k first pass: 3.93-6.00 -> 3.40-3.65 s wall, 3.80-4.05 -> 3.11-3.59 s CPU,
stall 25-68 -> 27-42 ms, peak RSS 92 -> 93 MB; nothing due 1.5-1.9 -> 0.9-1.4 ms; next
morning 70-101 -> 69-118 ms wall. The pass alone (no heartbeat), interleaved with 2d2ad34 on
one ledger file: 3.34-4.07 -> 2.83-3.54 s CPU; per thread (one run each) the loop 2.06 ->
1.49 s, SQLite's 1.44 -> 1.29 s, the worker 0.41 -> 0.30 s. What remains is mostly per-row
work: SQLite's next_at UPDATE of 100,000 rows (0.38 s in sqlite3 alone, 0.13 s of it the
next_at index; 0.5 s in the pass; a statement per group of ids is slower), its snapshot
reads 0.26 s, carrying the 10,000 stage rows into briefs 0.14 s; the planner 0.3 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AT = datetime(2025, 12, 1, 2, 0, tzinfo=UTC)  # Monday 10:00 Asia/Shanghai
MORNING = datetime(2025, 12, 2, 1, 0, tzinfo=UTC)  # the next window opening, Tuesday 09:00
# issue 13's targets
NOTHING_DUE_MS = 5  # a tick with nothing due, at 100k
STALL_MS = 50  # the worst event-loop stall
RSS_MB = 100  # peak RSS
FIRST_SECONDS = 5  # the first pass after loading, at 100k
TICKS = 20  # ticks measured after the first one of a process
# what the cached ledger depends on: rebuild when any of these change
LEDGER_SOURCES = ("benchmarks/synthetic.py", "bot/storage/models.py", "bot/storage/db.py")


def _status_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (high-water mark) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- children --------------------------------------------------------------------------------


def _url(target: str) -> str:
    """A database as the children are given it: a PostgreSQL URL, or an SQLite file's path."""
    return target if "://" in target else f"sqlite+aiosqlite:///{target}"


async def _build(target: str, n: int) -> None:
    """Build the synthetic ledger into `target` (a process of its own: its memory is not the
    planner's). SQLite: left in rollback-journal mode, so that the file alone is the database;
    PostgreSQL: VACUUM ANALYZEd."""
    from benchmarks.synthetic import build_synthetic_ledger
    from bot.storage.db import create_all, make_engine, make_session_maker

    engine = make_engine(_url(target))
    await create_all(engine)
    started = time.perf_counter()
    info = await build_synthetic_ledger(make_session_maker(engine), assignments=n, at=AT)
    if "://" in target:
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.exec_driver_sql("VACUUM ANALYZE")
    await engine.dispose()
    if "://" not in target:
        with sqlite3.connect(target) as db:
            db.execute("PRAGMA journal_mode=DELETE")
    print(
        json.dumps(
            {
                "assignments": info.assignments,
                "persons": info.persons,
                "seconds": time.perf_counter() - started,
            }
        )
    )


class _Heartbeat:
    """An asyncio task that wakes every millisecond and records the longest gap between its
    wake-ups: how long the event loop was blocked (a bot's answers wait that long)."""

    def __init__(self) -> None:
        self.max_gap = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _beat(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.max_gap = max(self.max_gap, now - last)
            last = now

    async def __aenter__(self) -> _Heartbeat:
        self._task = asyncio.create_task(self._beat())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def _measure(mode: str, target: str, minute: int) -> None:
    """One measured pass in this (fresh) process; prints its figures as one JSON line."""
    from bot.core.policy import load_policy
    from bot.services.planning import plan_due
    from bot.storage.db import make_engine, make_session_maker

    policy = load_policy()
    figures: dict[str, float | int | dict] = {"baseline_mb": _status_mb("VmRSS")}
    at = (MORNING if mode == "morning" else AT).replace(minute=minute)
    engine = make_engine(_url(target))
    sm = make_session_maker(engine)
    cpu = time.process_time()
    async with _Heartbeat() as beat:
        result = await plan_due(sm, at, policy, digests=mode == "digest")
    figures["stall"] = beat.max_gap
    figures.update(
        {
            name: getattr(result, name)
            for name in (
                "considered",
                "due",
                "unresolved",
                "inserted",
                "digests",
                "batched_items",
                "markers",
                "rescheduled",
                "by_kind",
                "seconds",
            )
        }
    )
    figures["cpu"] = time.process_time() - cpu
    if mode in ("steady", "morning"):  # the next ticks of the same process (a running bot)
        walls, stalls = [], []
        for second in range(1, 1 + TICKS):
            async with _Heartbeat() as beat:
                again = await plan_due(sm, at.replace(second=second), policy, digests=False)
            walls.append(again.seconds)
            stalls.append(beat.max_gap)
        figures["again_seconds"] = statistics.median(walls)
        figures["again_stall"] = max(stalls)
        figures["again_inserted"] = again.inserted
    if mode == "first" and "://" in target:
        async with engine.connect() as conn:
            row: Any = (
                await conn.exec_driver_sql(
                    "SELECT count(*), coalesce(sum(pg_column_size(o.*)), 0) FROM outbox o"
                )
            ).one()
            rows, size = row[0], row[1]
        figures["outbox_rows"], figures["outbox_bytes"] = rows, int(size)
    await engine.dispose()
    figures["hwm_mb"] = _status_mb("VmHWM")
    if mode == "first" and "://" not in target:
        with sqlite3.connect(target) as db:
            rows, size = db.execute(
                "SELECT count(*), coalesce(sum(length(key) + length(kind) + length(stage)"
                " + coalesce(length(locale), 0) + length(CAST(payload AS BLOB))"
                " + length(last_error) + 8 * 9), 0) FROM outbox"
            ).fetchone()
        figures["outbox_rows"], figures["outbox_bytes"] = rows, size
    print(json.dumps(figures))


# --- the parent ------------------------------------------------------------------------------


def _child(*args: str) -> dict:
    """Run this script with `args` in a fresh process; its JSON line plus its own peak RSS
    (ru_maxrss of that child alone, from os.wait4)."""
    proc = subprocess.Popen(
        [sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode})")
    figures = json.loads(out.strip().splitlines()[-1])
    figures["peak_mb"] = usage.ru_maxrss / 1024
    return figures


def _pg_admin(url: str, *statements: str) -> list[tuple]:
    """Run statements outside a transaction in the database of `url`; the last one's rows."""
    import asyncpg  # type: ignore[import-untyped]

    async def run() -> list[tuple]:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        conn = await asyncpg.connect(dsn)
        try:
            rows: list[tuple] = []
            for statement in statements:
                rows = [tuple(r) for r in await conn.fetch(statement)]
            return rows
        finally:
            await conn.close()

    return asyncio.run(run())


def _pg_ledger(url: str, n: int, key: str, fresh: bool) -> tuple[str, str]:
    """The ledger of `n` assignments as a database of the server of `url`."""
    name = f"duban_sched_ledger_{n}_{key}"
    target = make_url(url).set(database=name).render_as_string(hide_password=False)
    found = _pg_admin(
        url, f"SELECT datname FROM pg_database WHERE datname LIKE 'duban_sched_ledger_{n}_%'"
    )
    if (name,) in found and not fresh:
        return target, f"ledger: {n} assignments, kept in the PostgreSQL database {name}"
    _pg_admin(url, *(f'DROP DATABASE IF EXISTS "{old}"' for (old,) in found))
    _pg_admin(url, f'CREATE DATABASE "{name}_tmp"')
    building = make_url(url).set(database=f"{name}_tmp").render_as_string(hide_password=False)
    info = _child("--build", building, str(n))
    _pg_admin(url, f'ALTER DATABASE "{name}_tmp" RENAME TO "{name}"')
    return target, (
        f"ledger: {info['assignments']} assignments, {info['persons']} persons, built in "
        f"{info['seconds']:.1f} s in a process of its own (peak RSS {info['peak_mb']:.0f} MB, "
        f"not counted below), kept in the PostgreSQL database {name}"
    )


def _ledger(n: int, fresh: bool) -> tuple[str, str]:
    """The cached fresh ledger of `n` assignments (built if missing or stale): an SQLite
    file, or with DATABASE_URL a PostgreSQL database."""
    digest = hashlib.sha1(str(n).encode())
    for name in LEDGER_SOURCES:
        digest.update((ROOT / name).read_bytes())
    pg_url = os.environ.get("DATABASE_URL", "")
    if pg_url.startswith("postgresql"):
        return _pg_ledger(pg_url, n, digest.hexdigest()[:12], fresh)
    folder = Path(tempfile.gettempdir()) / "duban-scheduler-bench"
    folder.mkdir(exist_ok=True)
    path = folder / f"ledger-{n}-{digest.hexdigest()[:12]}.sqlite3"
    if path.exists() and not fresh:
        return str(path), f"ledger: {n} assignments, cached in {path}"
    for old in folder.glob(f"ledger-{n}-*.sqlite3"):
        old.unlink()
    building = path.with_suffix(f".{os.getpid()}.tmp")
    info = _child("--build", str(building), str(n))
    building.replace(path)  # atomic: a concurrent run sees the whole file or none
    return str(path), (
        f"ledger: {info['assignments']} assignments, {info['persons']} persons, built in "
        f"{info['seconds']:.1f} s in a process of its own (peak RSS {info['peak_mb']:.0f} MB, "
        f"not counted below), cached in {path}"
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def _rss(runs: list[dict]) -> str:
    peak = max(r["peak_mb"] for r in runs)
    base = statistics.median(r["baseline_mb"] for r in runs)
    return (
        f"peak RSS {peak:.0f} MB (target < {RSS_MB} MB: {_verdict(peak < RSS_MB)}; "
        f"{base:.0f} MB of it is the process after imports)"
    )


def _stall(seconds: float) -> str:
    verdict = _verdict(seconds * 1000 < STALL_MS)
    return f"worst stall {_ms(seconds)} (target < {STALL_MS} ms: {verdict})"


def _store(target: str) -> str:
    """The SQLite file's size in MiB (a PostgreSQL database: not measured here)."""
    if "://" in target:
        return "(PostgreSQL: see pg_database_size)"
    return f"{Path(target).stat().st_size / 2**20:.1f} MiB"


@contextlib.contextmanager
def _work_copy(ledger: str, folder: str) -> Iterator[str]:
    """A copy of the ledger for the passes: a file in `folder`, or a PostgreSQL database made
    from it as a template (dropped afterwards)."""
    if "://" not in ledger:
        work = Path(folder) / "pass.sqlite3"
        shutil.copyfile(ledger, work)
        yield str(work)
        return
    source = make_url(ledger)
    name = f"duban_sched_pass_{os.getpid()}"
    admin = source.set(database="postgres").render_as_string(hide_password=False)
    _pg_admin(admin, f'CREATE DATABASE "{name}" TEMPLATE "{source.database}"')
    try:
        yield source.set(database=name).render_as_string(hide_password=False)
    finally:
        _pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}"')


def planning_figures(n: int = 100_000, *, fresh: bool = False) -> list[str]:
    ledger, line = _ledger(n, fresh)
    lines = [line]
    with tempfile.TemporaryDirectory() as folder, _work_copy(ledger, folder) as work:
        first = _child("--pass", "first", work, "0")
        by_kind = first["by_kind"]
        target = f" (target < {FIRST_SECONDS} s: {_verdict(first['seconds'] < FIRST_SECONDS)})"
        lines.append(
            f"[{n}] first pass after load (every assignment's instant computed): "
            f"{first['considered']} considered, {first['due']} due ({first['unresolved']} with "
            f"nobody bound), {first['inserted']} outbox rows "
            f"({by_kind.get('escalation_batch', 0)} 督办汇总 + "
            f"{by_kind.get('overdue_batch', 0)} 逾期事项清单 listing {first['batched_items']} "
            f"items; + {first['markers']} marks in table stagemark, not Outbox rows), "
            f"{first['rescheduled']} instants "
            f"stored; {first['seconds']:.2f} s wall{target if n >= 100_000 else ''}, "
            f"{first['cpu']:.2f} s CPU; {_stall(first['stall'])}; {_rss([first])}"
        )
        per_row = first["outbox_bytes"] / max(first["outbox_rows"], 1)
        lines.append(
            f"[{n}] Outbox after the first pass: {first['outbox_rows']} rows, "
            f"{per_row:.0f} bytes per row (columns' data, without indexes); the store "
            f"{_store(work)} on disk (ledger + schedule + Outbox; "
            f"{_store(ledger)} before the pass)"
        )
        # `work` is now the ledger after a first pass: every later tick of that morning is steady
        steady = _child("--pass", "steady", work, "1")
        nothing_ok = steady["again_seconds"] < NOTHING_DUE_MS / 1000
        verdict = f" (target < {NOTHING_DUE_MS} ms: {_verdict(nothing_ok)})"
        lines.append(
            f"[{n}] steady tick with nothing due: {steady['again_inserted']} rows, median "
            f"{steady['again_seconds'] * 1000:.2f} ms wall over {TICKS} ticks"
            f"{verdict if n >= 100_000 else ''} (the first tick of a fresh process: "
            f"{_ms(steady['seconds'])}); {_stall(max(steady['stall'], steady['again_stall']))}; "
            f"{_rss([steady])}"
        )
        morning = _child("--pass", "morning", work, "0")
        lines.append(
            f"[{n}] the next morning's tick (Tuesday 09:00): {morning['considered']} "
            f"assignments whose instant came, {morning['due']} due, {morning['inserted']} "
            f"outbox rows ({', '.join(f'{k} {v}' for k, v in sorted(morning['by_kind'].items()))}"
            f"); {_ms(morning['seconds'])} wall, {_ms(morning['cpu'])} CPU; then "
            f"{morning['again_seconds'] * 1000:.2f} ms per tick; "
            f"{_stall(max(morning['stall'], morning['again_stall']))}; {_rss([morning])}"
        )
    return lines


def main(sizes: list[int], fresh: bool) -> None:
    for n in sizes:
        for line in planning_figures(n, fresh=fresh):
            print(line, flush=True)
    from benchmarks.sender_bench import sender_figures

    for line in asyncio.run(sender_figures()):
        print(line)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--build":
        asyncio.run(_build(sys.argv[2], int(sys.argv[3])))
    elif len(sys.argv) > 1 and sys.argv[1] == "--pass":
        asyncio.run(_measure(sys.argv[2], sys.argv[3], int(sys.argv[4])))
    else:
        args = [a for a in sys.argv[1:] if a != "--fresh"]
        sizes = [int(a) for a in args] or [10_000, 100_000]
        main(sizes, "--fresh" in sys.argv[1:])
