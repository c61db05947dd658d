"""Whether a database is at the newest migration, known without importing Alembic.

Alembic (with Mako and Pygments, which it imports) costs a process ~7 MB of RSS for as long
as it lives; a bot restarted on a database already at head has nothing to migrate, so start-up
asks here first (bot.app.prepare_database) and imports bot.storage.migrate only when the
database is new, behind, or without history. The scripts' revision graph is read from the
files' `revision` / `down_revision` assignments (as Alembic writes them); anything this cannot
read plainly (several heads, a script without a literal revision) answers "not known", and
Alembic decides as before.
"""

from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _literals(path: Path) -> dict[str, object]:
    """The module-level `revision` and `down_revision` of a migration script."""
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, value = node.target.id, node.value
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            name, value = node.targets[0].id, node.value
        else:
            continue
        if name in ("revision", "down_revision") and value is not None:
            found[name] = ast.literal_eval(value)
    return found


def scripts_head(script_location: Path | None = None) -> str | None:
    """The one revision no script revises (the head), or None when the scripts do not show
    exactly one plainly."""
    revisions: set[str] = set()
    revised: set[str] = set()
    try:
        for path in sorted((script_location or MIGRATIONS_DIR).glob("versions/*.py")):
            if path.name.startswith("_"):
                continue
            found = _literals(path)
            revision, down = found.get("revision"), found.get("down_revision")
            if not isinstance(revision, str):
                return None
            revisions.add(revision)
            if isinstance(down, str):
                revised.add(down)
            elif isinstance(down, tuple | list):
                revised.update(str(d) for d in down)
            elif down is not None:
                return None
    except (OSError, SyntaxError, ValueError):
        return None
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


async def stored_revision(engine: AsyncEngine) -> str | None:
    """The revision recorded in the database (Alembic's table), or None when there is no
    such table or not exactly one row."""
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    except DBAPIError:  # no table: a new database, or one made without the migrations
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


async def at_head(engine: AsyncEngine) -> bool:
    """True when the database is known to be at the newest migration (nothing to upgrade)."""
    head = scripts_head()
    return head is not None and await stored_revision(engine) == head
