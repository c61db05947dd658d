"""outbox.via: the key of the liaison's brief that carries a stage's row (bot.services.briefs);
the row is `briefed` until the brief is sent, then `sent` with it.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("via", sa.String(), nullable=True))
        batch_op.create_index("ix_outbox_via", ["via"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_index("ix_outbox_via")
        batch_op.drop_column("via")
