"""Fixtures of the end-to-end stories: `world` (server + running bot + coordinator) and
`make_world` (the same with options: `await make_world(clock_start=..., env={...})`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from .world import World


@pytest.fixture
async def make_world(tmp_path) -> AsyncIterator[Callable[..., Awaitable[World]]]:
    worlds: list[World] = []

    async def make(*, start: bool = True, **options: Any) -> World:
        folder = tmp_path / f"world{len(worlds)}"
        folder.mkdir()
        world = await World.create(folder, **options)
        worlds.append(world)
        if start:
            await world.start()
        return world

    yield make
    for world in worlds:
        await world.close()


@pytest.fixture
async def world(make_world) -> World:
    return await make_world()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
