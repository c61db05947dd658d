"""The scheduler's next instant per assignment (`assignment.next_at`, indexed) and the
`schedulestate` table (the policy's fingerprint the instants were computed with).

Rows written before have next_at NULL: the first tick after the upgrade computes them all (the
same work as a tick of earlier releases), later ticks read only the rows whose instant has come.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assignment") as batch_op:
        batch_op.add_column(
            sa.Column("next_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.create_index("ix_assignment_next_at", ["next_at"], unique=False)
    op.create_table(
        "schedulestate",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("schedulestate")
    with op.batch_alter_table("assignment") as batch_op:
        batch_op.drop_index("ix_assignment_next_at")
        batch_op.drop_column("next_at")
