"""Start-up on a database at the newest migration does not import Alembic (~7 MB for the life
of the bot process); a database behind is still upgraded by it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.app import prepare_database
from bot.storage.db import make_engine
from bot.storage.migrate import current_revision, head_revision, upgrade_database
from bot.storage.schema_version import MIGRATIONS_DIR, at_head, scripts_head, stored_revision
from tests.dbs import database_url

ROOT = Path(__file__).resolve().parents[2]
NEXT = '''"""Test-only: a revision after the head."""
revision = "9001"
down_revision = "{head}"
'''


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A database without any table (SQLite, or PostgreSQL in the PostgreSQL run)."""
    return database_url(tmp_path / "ledger.sqlite3", empty=True)


def test_the_scripts_head_is_the_one_alembic_finds(tmp_path: Path) -> None:
    assert scripts_head() == head_revision() is not None
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "9001_next.py").write_text(NEXT.format(head=head_revision()))
    assert scripts_head(scripts) == head_revision(script_location=scripts) == "9001"
    # two heads: not known here (Alembic decides)
    (scripts / "versions" / "9002_branch.py").write_text(
        NEXT.format(head=head_revision()).replace("9001", "9002")
    )
    assert scripts_head(scripts) is None


async def test_a_new_or_older_database_is_not_at_head_and_is_upgraded(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert await stored_revision(engine) is None  # no alembic_version table
        assert not await at_head(engine)
        await upgrade_database(db_url, revision="0014")
        assert await stored_revision(engine) == "0014"
        assert not await at_head(engine)
        await prepare_database(SimpleNamespace(database=SimpleNamespace(url=db_url)), engine)  # type: ignore[arg-type]
        assert await current_revision(db_url) == head_revision()
        assert await at_head(engine)
    finally:
        await engine.dispose()


async def test_start_up_at_head_does_not_import_alembic(db_url: str) -> None:
    await upgrade_database(db_url)
    code = (
        "import asyncio, sys\n"
        "from types import SimpleNamespace\n"
        "from bot.app import prepare_database\n"
        "from bot.storage.db import make_engine\n"
        f"url = {db_url!r}\n"
        "async def main():\n"
        "    engine = make_engine(url)\n"
        "    await prepare_database(SimpleNamespace(database=SimpleNamespace(url=url)), engine)\n"
        "    await engine.dispose()\n"
        "asyncio.run(main())\n"
        "print(sorted({n.split('.')[0] for n in sys.modules} & {'alembic', 'mako', 'pygments'}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
