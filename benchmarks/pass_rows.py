"""What a first pass writes, as fingerprints to compare two versions of the code.

    .venv/bin/python benchmarks/pass_rows.py [N] [--dump FILE] [--ledger FILE]   (N: 10000)

Runs the first pass after load (Monday 10:00) and then the next morning's tick (Tuesday
09:00) of `benchmarks/scheduler_bench.py` on a copy of its cached synthetic ledger of N
assignments (SQLite; built if missing), and prints one SHA-256 per table over every row the
passes left, in primary-key order: the Outbox (every column, payloads as stored), the stage
marks, and the assignments' stored instants (`next_at`). A change that must not change what
is planned or sent leaves every line the same; `--dump` writes the rows themselves (one line
each) to FILE for a diff when a line differs. `--ledger` takes that ledger file instead (as
`scheduler_bench.py --build FILE N` writes it: the cache holds one ledger per size, which
another checkout's run may replace).
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.scheduler_bench import AT, MORNING, _ledger, _url  # noqa: E402

TABLES = {
    "outbox": "SELECT * FROM outbox ORDER BY id",
    "stagemark": "SELECT * FROM stagemark ORDER BY assignment_id, kind, stage",
    "next_at": "SELECT id, next_at FROM assignment ORDER BY id",
}


async def _passes(target: str) -> None:
    from bot.core.policy import load_policy
    from bot.services.planning import plan_due
    from bot.storage.db import make_engine, make_session_maker

    policy = load_policy()
    engine = make_engine(_url(target))
    session_maker = make_session_maker(engine)
    for at in (AT, MORNING):
        await plan_due(session_maker, at, policy, digests=False)
    await engine.dispose()


def fingerprints(n: int, dump: Path | None = None, ledger: str = "") -> dict[str, str]:
    ledger = ledger or _ledger(n, False)[0]
    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as folder:
        work = str(Path(folder) / "pass.sqlite3")
        shutil.copyfile(ledger, work)
        asyncio.run(_passes(work))
        with (
            sqlite3.connect(work) as db,
            dump.open("w") if dump else open(Path(folder) / "rows", "w") as lines,
        ):
            for table, sql in TABLES.items():
                digest = hashlib.sha256()
                count = 0
                for row in db.execute(sql):
                    line = repr(row)
                    digest.update(line.encode())
                    lines.write(f"{table} {line}\n")
                    count += 1
                out[table] = f"{count} rows {digest.hexdigest()}"
    return out


if __name__ == "__main__":
    args = sys.argv[1:]
    dump = None
    if "--dump" in args:
        at = args.index("--dump")
        dump = Path(args[at + 1])
        del args[at : at + 2]
    ledger = ""
    if "--ledger" in args:
        at = args.index("--ledger")
        ledger = args[at + 1]
        del args[at : at + 2]
    for table, line in fingerprints(int(args[0]) if args else 10_000, dump, ledger).items():
        print(f"{table}: {line}")
