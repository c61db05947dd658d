"""The Outbox's waiting rows found by the index: ix_outbox_status (status) becomes
ix_outbox_status_not_before (status, not_before).

The brief composer asks every tick for the rows pending or held since an instant
(bot.storage.outbox.briefs.waiting_rows); with `status` alone indexed, `not_before` was read
from each row, and it comes after `payload`: every pending brief's overflow pages were walked
(at 100k assignments 4.8 MiB of page cache and 6 ms, again each tick after a write). The
composite index answers both conditions; every query by status alone uses its first column.

No row changes.

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_outbox_status_not_before", "outbox", ["status", "not_before"], unique=False
    )
    op.drop_index("ix_outbox_status", table_name="outbox")


def downgrade() -> None:
    op.create_index("ix_outbox_status", "outbox", ["status"], unique=False)
    op.drop_index("ix_outbox_status_not_before", table_name="outbox")
