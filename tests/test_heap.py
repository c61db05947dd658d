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


def test_overlapping_pauses_resume_the_collector_only_when_the_last_ends():
    from bot.heap import collector_paused

    assert gc.isenabled()
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()  # a tick starting during a load
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the tick still runs: no collection under it
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_pause_leaves_a_collector_that_was_off_off():
    from bot.heap import collector_paused

    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_free_memory_is_handed_back_on_glibc_and_skipped_elsewhere(monkeypatch):
    import os

    from bot.heap import release_free_memory

    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        glibc = ""
    assert release_free_memory() is glibc.startswith("glibc")
    monkeypatch.setattr(os, "confstr", lambda name: None)  # musl has no such name
    assert release_free_memory() is False
