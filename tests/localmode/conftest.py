"""Local mode started once per module, in process, on a free port with a temp data folder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest_asyncio

from bot.config import load_settings
from bot.localmode import LocalMode
from bot.localserver.guard import KEY_HEADER

REPO = Path(__file__).resolve().parents[2]


def local_settings(data_dir: Path, **overrides: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "bot_token": None,
        "database_url": f"sqlite+aiosqlite:///{data_dir}/duban.sqlite3",
        "local_host": "127.0.0.1",
        "local_port": 0,
        "tasks_data": REPO / "tasks_data",
        "clock_start": None,
        "admin_ids": [],
        "policy_file": None,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def local(tmp_path_factory) -> AsyncIterator[LocalMode]:  # type: ignore[no-untyped-def]
    data_dir = tmp_path_factory.mktemp("localmode")
    async with LocalMode(local_settings(data_dir)) as mode:
        yield mode


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def http(local: LocalMode) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {KEY_HEADER: local.server.control_key}
    async with aiohttp.ClientSession(base_url=local.server.base_url, headers=headers) as session:
        yield session
