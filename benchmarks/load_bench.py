"""Time loading the reviewed seed plans into a fresh SQLite database.

`python benchmarks/load_bench.py` prints the migration time and the load time (target < 1 s
for the four seeds). `time_load(plans, directory)` is reusable by `benchmarks/import_bench.py`.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.plan import Plan  # noqa: E402
from bot.storage.db import make_engine, make_session_maker  # noqa: E402
from bot.storage.loader import LoadReport, load_plans  # noqa: E402
from bot.storage.migrate import upgrade_database  # noqa: E402

AT = datetime(2025, 1, 6, 1, 0, tzinfo=UTC)


@dataclass
class LoadTiming:
    migrate_seconds: float
    load_seconds: float
    reload_seconds: float  # same plans again: skipped by content hash
    report: LoadReport


async def _time_load(plans: list[Plan], directory: Any, folder: Path) -> LoadTiming:
    url = f"sqlite+aiosqlite:///{folder / 'bench.sqlite3'}"
    start = time.perf_counter()
    await upgrade_database(url)
    migrated = time.perf_counter()
    engine = make_engine(url)
    try:
        session_maker = make_session_maker(engine)
        loaded_start = time.perf_counter()
        report = await load_plans(session_maker, plans, directory, at=AT)
        loaded = time.perf_counter()
        await load_plans(session_maker, plans, directory, at=AT)
        reloaded = time.perf_counter()
    finally:
        await engine.dispose()
    return LoadTiming(migrated - start, loaded - loaded_start, reloaded - loaded, report)


def time_load(plans: list[Plan], directory: Any) -> LoadTiming:
    """Migrate a fresh temp SQLite database, load `plans`, load them again; time each step."""
    with tempfile.TemporaryDirectory() as folder:
        return asyncio.run(_time_load(plans, directory, Path(folder)))


def main() -> int:
    from bot.core.units import load_unit_directory
    from bot.importer.yaml_io import read_plans_dir

    plans = read_plans_dir(ROOT / "tasks_data" / "plans")
    directory = load_unit_directory(ROOT / "tasks_data" / "units.yaml")
    timing = time_load(plans, directory)
    assignments = sum(p.assignments for p in timing.report.plans)
    items = sum(p.tasks + p.key_projects + p.indicators for p in timing.report.plans)
    print(
        f"load {len(plans)} plans ({items} items, {assignments} assignments) into a fresh "
        f"SQLite database: {timing.load_seconds:.3f} s (migrations {timing.migrate_seconds:.3f} s,"
        f" unchanged reload {timing.reload_seconds:.3f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
