"""The start-up heap is frozen once the app is built: full collections no longer walk it."""

from __future__ import annotations

import gc

from bot.heap import freeze_startup_heap


def test_freezing_moves_what_exists_out_of_the_collectors_generations():
    survivor = [{"plan": i} for i in range(1000)]  # long-lived, like start-up's objects
    try:
        frozen = freeze_startup_heap()
        assert frozen >= len(survivor)
        assert gc.get_freeze_count() == frozen
        # a full collection now walks only what was made after the freeze
        tracked = sum(len(gc.get_objects(generation)) for generation in range(3))
        assert tracked < frozen
        assert not any(obj is survivor for obj in gc.get_objects(2))
    finally:
        gc.unfreeze()
