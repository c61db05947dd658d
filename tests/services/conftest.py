from __future__ import annotations

import asyncio

import pytest

from tests.dbs import copy_database

from .factories import Ledger, build_ledger, open_ledger


@pytest.fixture(scope="session")
def ledger_template(tmp_path_factory):
    """The ledger built once; each test gets a copy of the file (much faster than rebuilding)."""
    path = tmp_path_factory.mktemp("ledger") / "template.sqlite3"

    async def build() -> Ledger:
        ledger = await build_ledger(path)
        await ledger.engine.dispose()
        return ledger

    return path, asyncio.run(build())


@pytest.fixture
async def ledger(tmp_path, ledger_template) -> Ledger:
    template_path, template = ledger_template
    path = tmp_path / "ledger.sqlite3"
    copy_database(template_path, path)
    ledger = open_ledger(path, template)
    yield ledger
    await ledger.engine.dispose()
