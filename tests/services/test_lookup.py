from __future__ import annotations

import pytest

from bot.core.units import load_unit_directory
from bot.services import lookup
from bot.services.errors import ServiceError


@pytest.fixture(scope="module")
def directory():
    return load_unit_directory()


@pytest.mark.parametrize("typed", ["SR-1", "sr-1", " Sr-1 ", "ＳＲ－１", "SR1", "sr—1"])
async def test_task_by_ref_is_forgiving(ledger, typed):
    async with ledger.session_maker() as s:
        assert (await lookup.task_by_ref(s, typed)).ref == "SR-1"


@pytest.mark.parametrize("typed", ["SR-99", "", "XX-1", "SR"])
async def test_unknown_ref(ledger, typed):
    async with ledger.session_maker() as s:
        with pytest.raises(ServiceError) as err:
            await lookup.task_by_ref(s, typed)
        assert err.value.code == "unknown_ref"


async def test_plan_by_code(ledger):
    async with ledger.session_maker() as s:
        assert (await lookup.plan_by_code(s, "sr")).code == "SR"
        assert await lookup.plan_by_code(s, "zz") is None


async def test_units_through_aliases(ledger, directory):
    async with ledger.session_maker() as s:
        unit = await lookup.resolve_unit(s, directory, "上饶市卫健委")
        assert unit.name == "上饶市卫生健康委员会"
        unit = await lookup.resolve_unit(s, directory, "上饶市财政局")
        assert unit.id == ledger.units["sr_finance"]
        assert (await lookup.resolve_unit(s, directory, "市财政局")).name == "上饶市财政局"


async def test_ambiguous_unit_lists_candidates(ledger, directory):
    async with ledger.session_maker() as s:
        with pytest.raises(ServiceError) as err:
            await lookup.resolve_unit(s, directory, "市卫健委")
        assert err.value.code == "ambiguous_unit"
        assert set(err.value.params["candidates"]) == {
            "上饶市卫生健康委员会",
            "龙南市卫生健康委员会",
        }
        with pytest.raises(ServiceError, match="unknown_unit"):
            await lookup.resolve_unit(s, directory, "市教育局不存在")


async def test_units_without_directory_use_the_ledger(ledger):
    async with ledger.session_maker() as s:
        assert [u.name for u in await lookup.find_units(s, None, "财政")] == ["上饶市财政局"]
        assert await lookup.find_units(s, None, "  ") == []
