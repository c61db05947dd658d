"""Shared, cached imports of the seed plans for the importer tests (not a test module)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from bot.core.plan import Plan
from bot.core.units import load_unit_directory
from bot.importer.seeds import load_manifest

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / ".." / "shared" / "seeds"


@cache
def seed_plan(code: str) -> Plan:
    """The seed plan of `code`, imported with the manifest's options."""
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not beside the repository")
    for seed in load_manifest():
        if seed.code == code:
            return seed.import_(load_unit_directory())
    raise KeyError(code)
