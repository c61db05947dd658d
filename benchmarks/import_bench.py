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


def measure_pathological() -> list[tuple[str, float]]:
    """The inputs of issue 10 finding 5, each of which must end within 10 s: a 5 MB plan that is
    one giant item (refused for its size), the largest accepted document made of one giant item
    (parsed, then refused naming the item) and a 10,000-item plan (parsed)."""
    from bot.importer import parse_plan_text
    from bot.importer.errors import PlanInputError
    from bot.importer.pipeline import MAX_PLAN_CHARS

    directory = load_unit_directory()
    piece = "推进医疗卫生服务体系建设，到2025年底完成改造（市卫健委牵头，市财政局配合）\n"
    head = "某市2024-2025年行动方案\n一、重点任务\n1.完善体系。"
    out = []
    for label, size in (
        ("5 MB plan of one giant item (refused: size)", 5_000_000),
        ("1.9 MB plan of one giant item (refused: item)", MAX_PLAN_CHARS - 100_000),
    ):
        giant = head + piece * (size // len(piece))
        started = time.perf_counter()
        try:
            parse_plan_text(giant, source="giant.txt", directory=directory)
        except PlanInputError:
            pass
        out.append((label, time.perf_counter() - started))
    rows = [
        f"{k}.推进第{k}项工作。2024年6月底前完成。〔责任单位：市卫健委、市财政局〕"
        for k in range(1, 10_001)
    ]
    many = "某市2024年重点工作任务分解方案\n一、重点任务\n" + "\n".join(rows)
    started = time.perf_counter()
    parse_plan_text(many, source="many.txt", directory=directory)
    out.append(("10,000-item plan (parsed)", time.perf_counter() - started))
    return out


def main() -> int:
    for label, seconds in (measure_import(), measure_load(), *measure_pathological()):
        print(f"{label}: {seconds:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
