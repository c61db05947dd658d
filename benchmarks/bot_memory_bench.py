"""Memory of a bot-like process on the 100k ledger (issue 13: "the bot process under 100 MB
RSS on 100k assignments at steady state"), through the week's heavy passes.

    .venv/bin/python benchmarks/bot_memory_bench.py [N] [--runs 3] [--fresh]   (default 100000)

The ledger is scheduler_bench's (its builder and cache: `benchmarks.scheduler_bench._ledger`,
`DATABASE_URL=postgresql+asyncpg://…` for PostgreSQL). Each run works on a copy of it, in two
FRESH child processes that import what `python -m bot` imports (`bot.lazy_aiogram` first, then
`bot.app`), build the dispatcher with its routers (`bot.telegram.setup.build_dispatcher`) and
freeze the start-up heap, as `bot.app.run_app` does, then call the scheduler's pass
(`bot.services.planning.plan_due`) as its tick would:
- process 1: the first pass after the load (Monday 10:00, no digest);
- process 2 (the ledger after that first pass, a bot restarted): 20 nothing-due ticks, the
  weekly digest pass (Monday 10:02: the digest slot of 09:00 is open), then the next
  morning's tick (Tuesday 09:00).
After the imports and after each step the process's RSS (VmRSS) and its high-water mark
(VmHWM) are printed, in MB. Target (issue 13): under 100 MB at steady state, i.e. the RSS a
pass leaves behind (the high-water mark is printed for information; digestmem aimed at <= 95 MB
after each pass and a high-water mark < 100 MB, which the imports alone rule out).

Measured by digestmem (SQLite, 2 cores shared with other helpers, load 1.6-2.1, three runs
each; before: main 2d2ad34 with this script): after the imports 96.3-96.5 MB, with the
dispatcher 99.2-99.4 MB (the floor of every figure below: the <= 95 MB target is under it).
- first pass: 124.4-129.2 -> 115.7-115.9 MB after (high-water 126.8-129.7 -> 126.8-128.0:
  the first pass's own peak, not changed here);
- 20 nothing-due ticks: 100.6-100.7 -> 100.7-100.8 MB;
- the digest pass: 116.1-116.3 -> 104.0-104.2 MB after, high-water 116.1-116.3 ->
  108.4-108.6 (its lists keep their first 40 items instead of every listed item: 116 ->
  111; 1,000 rows read at a time instead of 5,000: -> 108.5; its connection closed when
  returned and malloc_trim: -> 104);
- the next morning's tick (404 assignments read, 409 rows): 116.3-116.6 -> 104.4-104.5 MB.
What stays above the ticks' 101 MB after a digest (~3 MB) is fragments of the heap: ~1.3 MB
of Python objects made during the pass live on (SQLAlchemy's compiled statements and mapper
state, first built then), and the 20 rankings (one SQL aggregate per set of plans, ~3 MiB of
Python each at their peak) raise the high-water mark by ~3 MB.
PostgreSQL (one run each, load 1.9-2.6): first pass 127.2 -> 119.1 MB after; digest pass
119.1 -> 110.7 MB after (ticks 101.6-101.8); next morning 119.3 -> 111.0 MB. There the rest
is the client's: ~4.7 MB reading the digest's rows, ~0.3 MB more with each of the 20
rankings (each set of plans its own SQL text, compiled and kept by the engine); closing the
connection after the pass gained nothing there, so only SQLite's is closed.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STEADY_MB = 100  # issue 13: the RSS a pass leaves behind


def _figures(step: str) -> dict[str, float | str]:
    from benchmarks.scheduler_bench import _status_mb

    return {"step": step, "rss": _status_mb("VmRSS"), "hwm": _status_mb("VmHWM")}


async def _bot_like(script: str, target: str) -> None:
    """One bot-like process: imports and dispatcher as `python -m bot`, then `script`'s passes;
    one JSON line per step."""
    from bot.lazy_aiogram import import_aiogram

    import_aiogram()  # first, as `python -m bot` does
    import bot.app  # noqa: F401  (what `python -m bot run` imports)
    from benchmarks.scheduler_bench import AT, MORNING, TICKS, _url
    from bot.app import load_deployment_policy
    from bot.clock import VirtualClock
    from bot.config import load_settings
    from bot.heap import freeze_startup_heap
    from bot.i18n import make_i18n
    from bot.services.planning import plan_due
    from bot.storage.db import make_engine, make_session_maker
    from bot.telegram.setup import build_dispatcher

    steps = [_figures("imports")]
    folder = tempfile.mkdtemp()
    settings = load_settings(
        env_file=None, bot_token="42:BENCH", tasks_data=Path(folder) / "tasks_data"
    )
    policy = load_deployment_policy(settings)
    engine = make_engine(_url(target))
    sm = make_session_maker(engine)
    dispatcher = build_dispatcher(
        settings=settings,
        policy=policy,
        tz=settings.clock.zone,
        clock=VirtualClock(AT, rate=0),
        session_maker=sm,
        directory=None,
        i18n=make_i18n(),
    )
    freeze_startup_heap()
    steps.append(_figures("dispatcher"))
    if script == "first":
        result = await plan_due(sm, AT, policy, digests=False)
        steps.append(_figures(f"first pass ({result.inserted} rows)"))
    else:
        for second in range(1, 1 + TICKS):
            await plan_due(sm, AT.replace(minute=1, second=second), policy, digests=False)
        steps.append(_figures(f"{TICKS} nothing-due ticks"))
        result = await plan_due(sm, AT.replace(minute=2), policy, digests=True)
        steps.append(_figures(f"digest pass ({result.digests} digests)"))
        result = await plan_due(sm, MORNING, policy, digests=True)
        steps.append(
            _figures(f"next morning's tick ({result.considered} read, {result.inserted} rows)")
        )
    await engine.dispose()
    del dispatcher
    for step in steps:
        print(json.dumps(step))


def _child(script: str, target: str) -> list[dict]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", script, target],
        cwd=ROOT,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def _line(step: dict) -> str:
    return f"{step['step']}: RSS {step['rss']:.1f} MB, high-water {step['hwm']:.1f} MB"


def main(n: int, runs: int, fresh: bool) -> None:
    from benchmarks.scheduler_bench import TICKS, _ledger, _work_copy

    ledger, line = _ledger(n, fresh)
    print(line, flush=True)
    table: dict[str, list[dict]] = {}
    for run in range(runs):
        with tempfile.TemporaryDirectory() as folder, _work_copy(ledger, folder) as work:
            steps = _child("first", work) + _child("week", work)
        for step in steps:
            print(f"[run {run + 1}] {_line(step)}", flush=True)
            table.setdefault(step["step"].split(" (")[0], []).append(step)
    print(f"[{n}] ranges over {runs} runs (load {os.getloadavg()[0]:.1f}):")
    passes = ("first pass", f"{TICKS} nothing-due ticks", "digest pass", "next morning's tick")
    for name, steps in table.items():
        rss = [s["rss"] for s in steps]
        hwm = [s["hwm"] for s in steps]
        verdict = ""
        if name in passes:
            ok = max(rss) < STEADY_MB
            verdict = f" (issue 13: < {STEADY_MB} MB at steady state: {'ok' if ok else 'MISSED'})"
        print(
            f"  {name}: RSS {min(rss):.1f}-{max(rss):.1f} MB, high-water "
            f"{min(hwm):.1f}-{max(hwm):.1f} MB{verdict}"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        asyncio.run(_bot_like(sys.argv[2], sys.argv[3]))
    else:
        args = sys.argv[1:]
        runs = 3
        if "--runs" in args:
            at = args.index("--runs")
            runs = int(args[at + 1])
            del args[at : at + 2]
        sizes = [int(a) for a in args if a != "--fresh"]
        main(sizes[0] if sizes else 100_000, runs, "--fresh" in args)
