"""Two instances started at the same instant on an empty PostgreSQL database: both come up, the
migrations ran once and the plans were loaded once (the start-up lock,
bot.storage.startup_lock). Real processes, the real start-up (`bot.app.build_app`)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.storage.migrate import head_revision
from tests.dbs import database_url, fetch, on_postgres

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not on_postgres(), reason="PostgreSQL run only (SQLite: one process per database)"
)

# waits for the starting gun (a file), then runs the start-up of `python -m bot run` and stops
STARTUP = """
import asyncio, os, sys, time
from pathlib import Path
from bot.app import build_app
from bot.config import load_settings
from bot.logs import configure_logging

settings = load_settings()
configure_logging("INFO", instance=settings.bot.instance)
gun = Path(sys.argv[1])
while not gun.exists():
    time.sleep(0.001)

async def main():
    app = await build_app(settings)
    await app.close()

asyncio.run(main())
print("UP", flush=True)
os._exit(0)  # the parser's worker process is not waited for
"""


async def test_two_instances_starting_at_once_migrate_and_load_once(tmp_path):
    url = database_url(tmp_path / "race.sqlite3", empty=True)
    gun = tmp_path / "go"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": url,
        "TASKS_DATA": str(ROOT / "tasks_data"),
        "TELEGRAM_API_BASE": "http://127.0.0.1:9",  # a local Bot API server: no token needed
        "LOG_LEVEL": "INFO",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", STARTUP, str(gun)],
            cwd=tmp_path,
            env={**env, "INSTANCE_NAME": f"bot-{i}"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in (1, 2)
    ]
    await asyncio.sleep(0)  # both are importing; the gun fires for both at once
    gun.write_text("go")
    outputs = [await asyncio.to_thread(p.communicate, timeout=300) for p in procs]
    logs = "".join(err for _, err in outputs)
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0 and "UP" in out, err[-3000:]

    assert logs.count("database migrated from nothing to") == 1, logs[-3000:]
    plans = sorted(p.stem for p in (ROOT / "tasks_data" / "plans").glob("*.yaml"))
    new = [line for line in logs.splitlines() if " INFO bot: plan " in line and "(new)" in line]
    unchanged = [line for line in logs.splitlines() if "(unchanged)" in line]
    assert len(new) == len(plans) and len(unchanged) == len(plans), logs[-3000:]
    assert {line.split("instance=")[1].split()[0] for line in new} in ({"bot-1"}, {"bot-2"})
    assert fetch(url, "SELECT count(*) FROM plan") == [(len(plans),)]
    (version,) = fetch(url, "SELECT version_num FROM alembic_version")
    assert version[0] == head_revision()
