"""The planner's marks of batched stages move out of the Outbox into `stagemark`.

A stage that went only into 督办汇总 / 逾期事项清单 was recorded as an Outbox row (status
batched, chat 0, key "<notification key>|0") that is never sent: at 100k assignments a first
pass wrote 36,705 of them, three quarters of the Outbox. They are now rows of a small table
keyed by the notification key; the ones earlier releases wrote are moved here (same kind,
stage, assignment and payload), so their stages stay planned.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stagemark",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignment.id"]),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_stagemark_assignment_id", "stagemark", ["assignment_id"], unique=False)
    # the marker rows of earlier releases: key "<notification key>|0"
    op.execute(
        "INSERT INTO stagemark (key, assignment_id, kind, stage, payload, created_at) "
        "SELECT substr(key, 1, length(key) - 2), assignment_id, kind, stage, payload, "
        "created_at FROM outbox WHERE status = 'batched' AND chat_id = 0"
    )
    op.execute("DELETE FROM outbox WHERE status = 'batched' AND chat_id = 0")


def downgrade() -> None:
    op.execute(
        "INSERT INTO outbox (key, kind, chat_id, assignment_id, stage, payload, created_at, "
        "not_before, status, attempts, last_error, parts_sent) "
        "SELECT key || '|0', kind, 0, assignment_id, stage, payload, created_at, created_at, "
        "'batched', 0, '', 0 FROM stagemark"
    )
    op.drop_index("ix_stagemark_assignment_id", table_name="stagemark")
    op.drop_table("stagemark")
