"""The bot process does not load what only a few commands use: the .xlsx writer (openpyxl
with numpy, PIL and lxml, ~30 MB of RSS) is imported by /export when it writes a workbook."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("openpyxl", "numpy", "PIL", "lxml", "matplotlib", "hypothesis")


def test_the_bot_starts_without_the_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "from bot.lazy_aiogram import import_aiogram\n"
        "import_aiogram()\n"
        "import bot.app, bot.telegram.setup, bot.services.planning\n"
        "import bot.storage.outbox.delivery\n"
        f"print(','.join(n for n in {HEAVY!r} if n in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_the_plan_services_load_without_aiogram() -> None:
    """The plan services (and so the children that parse uploads and load plans) do not import
    aiogram: translating a text needs Babel's catalogs, not the Telegram types (~130 MB)."""
    code = (
        "import sys\n"
        "import bot.services.import_review, bot.services.plan_loading\n"
        "import bot.services.plan_upload, bot.services.plan_withdraw\n"
        "print(','.join(n for n in sys.modules if n.split('.')[0] == 'aiogram'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_the_bot_does_not_load_the_document_parser() -> None:
    """Documents are parsed in a child process (bot.services.parse_runner): the bot's process
    and the plan services import bot.importer's small modules, not its parsing pipeline."""
    code = (
        "import sys\n"
        "from bot.lazy_aiogram import import_aiogram\n"
        "import_aiogram()\n"
        "import bot.app, bot.telegram.setup, bot.services.parse_runner\n"
        "import bot.services.import_review, bot.services.plan_upload\n"
        "print(','.join(n for n in sys.modules if n == 'bot.importer.pipeline'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""
