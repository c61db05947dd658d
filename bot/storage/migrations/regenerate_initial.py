"""Rewrite `versions/0001_initial.py` from the current models (development only).

Until the first release the schema is still moving, so the initial revision is regenerated
rather than stacked with small ones: `python -m bot.storage.migrations.regenerate_initial`.
After a release this must not be used any more: add a new revision instead (see migrate.py).
The result is autogenerate's output, tidied: plain `op.create_index` instead of batch blocks.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command

from bot.storage.migrate import MIGRATIONS_DIR, alembic_config

VERSIONS = MIGRATIONS_DIR / "versions"
TARGET = VERSIONS / "0001_initial.py"
_BATCH = (
    r"    with op\.batch_alter_table\('(\w+)', schema=None\) as batch_op:\n"
    r"((?:        batch_op\.{}.*\n)+)"
)


def _indexes(match: re.Match[str]) -> str:
    table, lines = match.group(1), match.group(2).strip("\n").split("\n")
    out = []
    for line in lines:
        call = line.strip().replace("batch_op.f(", "op.f(").replace("batch_op.", "op.", 1)
        name, rest = call.split("(", 1)
        if name == "op.create_index":
            first, others = rest.split(", ", 1)
            out.append(f"    op.create_index({first}, '{table}', {others}")
        else:
            out.append(f"    op.drop_index({rest[:-1]}, table_name='{table}')")
    return "\n".join(out) + "\n"


def tidy(script: str) -> str:
    script = script.replace(
        '"""initial schema\n', '"""Initial schema: the tables of bot/storage/models.py.\n'
    )
    script = re.sub(r"Create Date: .*\n", "", script)
    script = re.sub(r"    # ### (commands auto generated|end Alembic commands).*\n", "", script)
    script = re.sub(_BATCH.format("create_index"), _indexes, script)
    script = re.sub(_BATCH.format("drop_index"), _indexes, script)
    script = re.sub(r"\n\n(    op\.drop_table)", r"\n\1", script)
    return re.sub(r"(\[[^\]]*\]), (\[[^\]]*\]), \)", r"\1, \2)", script)


def main() -> int:
    backup = TARGET.read_text(encoding="utf-8")
    TARGET.unlink()
    try:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'empty.sqlite3'}"
            command.revision(
                alembic_config(url), "initial schema", autogenerate=True, rev_id="0001"
            )
    except Exception:
        TARGET.write_text(backup, encoding="utf-8")
        raise
    generated = next(VERSIONS.glob("0001_*.py"))
    script = tidy(generated.read_text(encoding="utf-8"))
    generated.unlink()
    TARGET.write_text(script, encoding="utf-8")
    ruff = Path(sys.executable).with_name("ruff")
    subprocess.run([str(ruff), "format", "-q", str(TARGET)], check=True)
    subprocess.run([str(ruff), "check", "--fix", "-q", str(TARGET)], check=True)
    print(f"rewrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
