"""The ladder policy, the planner and the Outbox payloads are pure: importing them (in a fresh
interpreter) loads no SQLAlchemy, SQLModel or aiogram module."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PURE = ("bot.core.policy", "bot.core.planner", "bot.core.digest_slot", "bot.core.notices")
HEAVY = ("sqlalchemy", "sqlmodel", "aiogram")


def test_the_planner_policy_and_payloads_import_no_database_or_telegram_library():
    code = (
        "import json, sys\n"
        + "".join(f"import {name}\n" for name in PURE)
        + "from bot.core.policy import load_policy\n"
        + "load_policy()\n"
        + "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = json.loads(done.stdout)
    assert all(name in loaded for name in PURE)
    heavy = [m for m in loaded if m.split(".")[0] in HEAVY]
    assert heavy == []
