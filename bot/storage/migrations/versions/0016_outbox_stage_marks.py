"""Leaner stage marks: keyed by (assignment, kind, stage), the liaisons who got the stage in a
list, nothing else.

A mark (`bot.storage.models.StageMark`) had a text key repeating its kind, assignment and
stage ("escalation:36:od9@2025-05-31", indexed twice: the primary key and the assignment),
and a payload naming the summaries and lists that carried it, which nothing reads: 275 bytes
a mark on story_bench. The primary key is now (assignment_id, kind, stage) (on SQLite a
table WITHOUT ROWID: the rows are that index), `liaisons` a JSON array: person ids in marks
written from now on, the names of the marks of earlier releases (their payload's
"liaisons"), which the chase history reads as they are. Rows are copied, none dropped.

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stagemark_new",
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("liaisons", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignment.id"]),
        sa.PrimaryKeyConstraint("assignment_id", "kind", "stage"),
        sqlite_with_rowid=False,
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        liaisons = "COALESCE(payload->'liaisons', '[]'::json)"
        assignment = "COALESCE(assignment_id, split_part(key, ':', 2)::int)"
    else:
        liaisons = "COALESCE(json_extract(payload, '$.liaisons'), '[]')"
        after_kind = "substr(key, instr(key, ':') + 1)"
        assignment = (
            f"COALESCE(assignment_id, CAST(substr({after_kind}, 1, "
            f"instr({after_kind}, ':') - 1) AS INTEGER))"
        )
    op.execute(
        "INSERT INTO stagemark_new (assignment_id, kind, stage, liaisons, created_at) "
        f"SELECT {assignment}, kind, stage, {liaisons}, created_at FROM stagemark"
    )
    op.drop_index("ix_stagemark_assignment_id", table_name="stagemark")
    op.drop_table("stagemark")
    op.rename_table("stagemark_new", "stagemark")
    if postgres:  # the names a fresh database gives them
        op.execute("ALTER TABLE stagemark RENAME CONSTRAINT stagemark_new_pkey TO stagemark_pkey")
        op.execute(
            "ALTER TABLE stagemark RENAME CONSTRAINT stagemark_new_assignment_id_fkey "
            "TO stagemark_assignment_id_fkey"
        )


def downgrade() -> None:
    op.create_table(
        "stagemark_old",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignment.id"]),
        sa.PrimaryKeyConstraint("key"),
    )
    # the key from its parts; the liaisons as they are (person ids of newer marks included)
    postgres = op.get_bind().dialect.name == "postgresql"
    aid = "CAST(assignment_id AS TEXT)" if postgres else "assignment_id"
    payload = (
        "json_build_object('audience', 'batched', 'batches', '[]'::json, 'liaisons', liaisons)"
        if postgres
        else "json_object('audience', 'batched', 'batches', json('[]'), "
        "'liaisons', json(liaisons))"
    )
    op.execute(
        "INSERT INTO stagemark_old (key, assignment_id, kind, stage, payload, created_at) "
        f"SELECT kind || ':' || {aid} || ':' || stage, assignment_id, kind, stage, {payload}, "
        "created_at FROM stagemark"
    )
    op.drop_table("stagemark")
    op.rename_table("stagemark_old", "stagemark")
    op.create_index("ix_stagemark_assignment_id", "stagemark", ["assignment_id"], unique=False)
