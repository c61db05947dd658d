"""`python -m bot import` and `python -m bot show`: the only module of the importer that prints.

Both return an exit status: 0 on success, 2 with one message on stderr for bad input.
`python -m bot.importer.cli regenerate-seeds` rewrites tasks_data/plans/ from the manifest.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import Clock, SystemClock, VirtualClock
from bot.config import DEFAULT_ZONE, SettingsError, load_settings
from bot.core.plan import Plan, plan_to_dict
from bot.core.units import UnitDirectoryError, load_unit_directory
from bot.importer import import_plan
from bot.importer.errors import PlanInputError
from bot.importer.reader import SUPPORTED
from bot.importer.summary import render_summary
from bot.importer.yaml_io import read_plan_yaml, read_plans_dir, write_plan_yaml

MIN_YEAR, MAX_YEAR = 1900, 2100


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def today_on_the_clock() -> date:
    """Today in the plans' time zone on the application's clock (a configured CLOCK_START
    makes it a virtual one); the system clock in the default zone if the settings are unusable."""
    try:
        settings = load_settings()
    except SettingsError:
        return SystemClock().now().astimezone(ZoneInfo(DEFAULT_ZONE)).date()
    clock: Clock = (
        VirtualClock(settings.clock.start) if settings.clock.start is not None else SystemClock()
    )
    return clock.now().astimezone(settings.clock.zone).date()


def run_import(args: argparse.Namespace) -> int:
    """Reads args.file; prints JSON (--json), writes YAML (-o) or prints a summary."""
    year = getattr(args, "year", None)
    if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
        return _fail(f"--year {year}: expected a year between {MIN_YEAR} and {MAX_YEAR}")
    try:
        directory = load_unit_directory()
        plan = import_plan(
            Path(args.file),
            code=getattr(args, "code", None),
            default_unit=getattr(args, "default_unit", None),
            directory=directory,
            year=year,
            today=today_on_the_clock(),
        )
        if getattr(args, "json", False):
            print(json.dumps(plan_to_dict(plan), ensure_ascii=False, indent=2))
            return 0
        output = getattr(args, "output", None)
        if output:
            write_plan_yaml(plan, Path(output))
            print(
                f"wrote {output}: {len(plan.tasks)} tasks, {len(plan.key_projects)} key "
                f"projects, {len(plan.indicators)} indicators, {len(plan.warnings)} warnings"
            )
            return 0
        print(render_summary(plan))
        return 0
    except PlanInputError as exc:
        return _fail(str(exc))
    except UnitDirectoryError as exc:
        return _fail(f"tasks_data/units.yaml: {exc}")
    except BrokenPipeError:  # `… --json | head`: the reader left, not an input error
        return 0
    except OSError as exc:
        return _fail(f"{getattr(exc, 'filename', None) or args.file}: {exc.strerror or exc}")


def _show_target(target: str, tasks_data: Path) -> list[Plan]:
    path = Path(target)
    if path.suffix.lower() in (".yaml", ".yml"):
        return [read_plan_yaml(path)]
    if path.suffix.lower() in SUPPORTED or path.exists():
        return [import_plan(path, directory=load_unit_directory(), today=today_on_the_clock())]
    by_code = tasks_data / "plans" / f"{target.lower()}.yaml"
    if by_code.exists():
        return [read_plan_yaml(by_code)]
    raise PlanInputError(
        target, f"no plan with code {target!r} in {tasks_data / 'plans'} and no such file"
    )


def run_show(args: argparse.Namespace) -> int:
    """Summaries of one plan (code or file) or of every plan in tasks_data/plans."""
    tasks_data = Path(getattr(args, "tasks_data", None) or "tasks_data")
    try:
        target = getattr(args, "target", None)
        plans = (
            _show_target(target, tasks_data) if target else read_plans_dir(tasks_data / "plans")
        )
    except PlanInputError as exc:
        return _fail(str(exc))
    except UnitDirectoryError as exc:
        return _fail(f"tasks_data/units.yaml: {exc}")
    if not plans:
        return _fail(f"{tasks_data / 'plans'}: no plans")
    print("\n\n".join(render_summary(plan) for plan in plans))
    return 0


def regenerate_seeds() -> int:
    """Rewrites tasks_data/plans/*.yaml from the seed manifest (tasks_data/plans.yaml)."""
    from bot.importer.seeds import load_manifest

    try:
        directory = load_unit_directory()
        for seed in load_manifest():
            plan = seed.import_(directory)
            write_plan_yaml(plan, seed.yaml_path)
            print(
                f"{seed.yaml_path}: {len(plan.tasks)} tasks, {len(plan.key_projects)} key "
                f"projects, {len(plan.indicators)} indicators, {len(plan.warnings)} warnings"
            )
    except PlanInputError as exc:
        return _fail(str(exc))
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["regenerate-seeds"]:
        sys.exit(regenerate_seeds())
    print("usage: python -m bot.importer.cli regenerate-seeds", file=sys.stderr)
    sys.exit(2)
