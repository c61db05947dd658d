"""Timing figures of the plan pipeline. Prints one line per figure: `import 4 seeds: 0.123 s`.

Run: `python benchmarks/import_bench.py` (needs ../shared/seeds beside the repository).
Targets: import < 0.5 s. Other figures (load into SQLite) add their own `measure_…` function.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.core.units import load_unit_directory  # noqa: E402
from bot.importer.seeds import load_manifest  # noqa: E402


def measure_import(repeat: int = 5) -> tuple[str, float]:
    """Best of `repeat` runs of importing every seed of the manifest (unit directory loaded
    once per run, as the CLI does)."""
    seeds = load_manifest()
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        directory = load_unit_directory()
        for seed in seeds:
            seed.import_(directory)
        best = min(best, time.perf_counter() - started)
    return f"import {len(seeds)} seeds", best


def measure_load(repeat: int = 3) -> tuple[str, float]:
    """Best of `repeat` loads of the reviewed seed YAMLs (tasks_data/plans) into a fresh,
    migrated SQLite database; migrations not counted (benchmarks/load_bench.py prints them)."""
    from benchmarks.load_bench import time_load
    from bot.importer.yaml_io import read_plans_dir

    plans = read_plans_dir(REPO / "tasks_data" / "plans")
    directory = load_unit_directory(REPO / "tasks_data" / "units.yaml")
    best = min(time_load(plans, directory).load_seconds for _ in range(repeat))
    return f"load {len(plans)} seeds into a fresh SQLite database", best


def main() -> int:
    for label, seconds in (measure_import(), measure_load()):
        print(f"{label}: {seconds:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
