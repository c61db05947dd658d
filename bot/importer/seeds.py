"""The seed manifest (`tasks_data/plans.yaml`): which document and options made each reviewed
plan. The seed regression test and `python -m bot.importer.cli regenerate-seeds` read it, so
the YAML in `tasks_data/plans/` and the test always use the same options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.core.plan import Plan
from bot.core.units import UnitDirectory
from bot.importer import import_plan
from bot.importer.errors import PlanInputError

REPO_ROOT = Path(__file__).resolve().parents[2]
MANIFEST = REPO_ROOT / "tasks_data" / "plans.yaml"
PLANS_DIR = REPO_ROOT / "tasks_data" / "plans"


@dataclass(frozen=True)
class SeedSpec:
    """One seed: its code, its document and the import options used."""

    code: str
    source: Path
    default_unit: str | None = None

    @property
    def yaml_path(self) -> Path:
        return PLANS_DIR / f"{self.code.lower()}.yaml"

    def import_(self, directory: UnitDirectory | None = None) -> Plan:
        return import_plan(
            self.source, code=self.code, default_unit=self.default_unit, directory=directory
        )


def load_manifest(path: Path = MANIFEST) -> list[SeedSpec]:
    """The seeds of the manifest, sources resolved against the repository root."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or not isinstance(data.get("plans"), list):
        raise PlanInputError(path, "expected 'plans:' with a list of seeds", field="plans")
    seeds_dir = (REPO_ROOT / str(data.get("seeds_dir") or "../shared/seeds")).resolve()
    out = []
    for i, row in enumerate(data["plans"]):
        if not isinstance(row, dict) or "code" not in row or "source" not in row:
            raise PlanInputError(path, "each seed needs code and source", field=f"plans[{i}]")
        out.append(
            SeedSpec(str(row["code"]), seeds_dir / str(row["source"]), row.get("default_unit"))
        )
    return out
