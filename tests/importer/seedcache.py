"""Shared, cached imports of the seed plans for the importer tests (not a test module)."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import NoReturn

import pytest

from bot.core.plan import Plan
from bot.core.units import load_unit_directory
from bot.importer.seeds import load_manifest

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / ".." / "shared" / "seeds"


def seeds_missing(reason: str) -> NoReturn:
    """Skip a test that needs the seed plans; in CI (CI set) fail it instead: a CI run that
    silently skips the seed tests has checked less than it says."""
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{reason} (CI is set: the seed plans are required)")
    pytest.skip(reason)


@cache
def seed_plan(code: str) -> Plan:
    """The seed plan of `code`, imported with the manifest's options."""
    if not SEEDS.is_dir():
        seeds_missing("../shared/seeds is not beside the repository")
    for seed in load_manifest():
        if seed.code == code:
            return seed.import_(load_unit_directory())
    raise KeyError(code)
