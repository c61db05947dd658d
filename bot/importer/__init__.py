"""Plan importer: a published plan (.txt / .md / .docx / .xlsx / .pdf) → `bot.core.plan.Plan`.

Public API:
- `import_plan(path, *, code=None, default_unit=None, directory=None, year=None, today=None)`
- `parse_plan_text(text, *, source, code=None, default_unit=None, directory=None, year=None,
  today=None)` (both → Plan; `year` overrides the plan's year, `today` supplies it when the
  document names none)
- `PlanInputError` for bad input (missing/unreadable file, unsupported format, no tasks).
YAML files: `bot.importer.yaml_io` (`write_plan_yaml`, `read_plan_yaml`, `read_plans_dir`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bot.core.plan import Plan
from bot.core.units import UnitDirectory
from bot.importer.errors import PlanInputError

__all__ = ["PlanInputError", "import_plan", "parse_plan_text"]

# The parsing pipeline (and the reader of .docx / .xlsx / .pdf) is imported by the functions
# below when they run: the bot's process and the plan services import this package for its
# small modules (errors, meta, yaml_io, summary) while documents are parsed in a child process
# (bot.services.parse_runner), so the pipeline's ~2 MB stay out of the bot's memory.


def parse_plan_text(
    text: str,
    *,
    source: str,
    code: str | None = None,
    default_unit: str | None = None,
    directory: UnitDirectory | None = None,
    year: int | None = None,
    today: date | None = None,
) -> Plan:
    """The plan of a document's text (bot.importer.pipeline.parse_plan_text)."""
    from bot.importer.pipeline import parse_plan_text as parse

    return parse(
        text,
        source=source,
        code=code,
        default_unit=default_unit,
        directory=directory,
        year=year,
        today=today,
    )


def import_plan(
    path: Path,
    *,
    code: str | None = None,
    default_unit: str | None = None,
    directory: UnitDirectory | None = None,
    year: int | None = None,
    today: date | None = None,
) -> Plan:
    """Reads and parses one plan file; `Plan.info.source` is the file's name. `year` is the
    year dates without one are read in (overrides the document); `today` (the caller's clock)
    gives the year when nothing else does."""
    from bot.importer.pipeline import parse_lines
    from bot.importer.reader import read_source

    path = Path(path)
    _, lines = read_source(path)
    return parse_lines(
        lines,
        source=path.name,
        code=code,
        default_unit=default_unit,
        directory=directory,
        path=path,
        year=year,
        today=today,
    )
