"""Loads off the event loop (bot.services.plan_loading): a confirmed upload's plan is decoded a
piece at a time (decode_json: the same value json.loads gives, whatever the layout and depth;
errors stay errors), and the garbage collector pauses while a load runs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.plan_loading import decode_json

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(
    JSON,
    st.integers(0, 4),
    st.sampled_from([None, 2]),
    st.sampled_from([(",", ":"), (", ", ": ")]),
)
def test_the_same_value_as_json_loads(
    value: Any, depth: int, indent: int | None, separators: tuple[str, str]
) -> None:
    text = json.dumps(value, indent=indent, separators=separators, ensure_ascii=False)
    assert decode_json(text, depth=depth) == value
    assert decode_json(f" {text}\n", depth=depth) == value


@pytest.mark.parametrize(
    "text", ['{"a": 1,}', '{"a" 1}', "[1 2]", '{"a": [1, 2}', "[1] x", "{1: 2}"]
)
def test_broken_json_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        decode_json(text, depth=3)


async def test_the_collector_is_paused_while_a_load_runs_and_resumed_after() -> None:
    """Its full passes over a big load's objects would hold the GIL for 50–75 ms each."""
    import gc

    from bot.services.plan_loading import off_loop

    assert gc.isenabled()
    assert await off_loop(gc.isenabled) is False
    assert gc.isenabled()
