"""Bot tokens out of `outbox.last_error`: error text stored before redaction existed quotes
Bot API URLs (`…/bot<TOKEN>/sendMessage`); rewritten with `bot.redact` so that new backups no
longer carry the token. Data only, no schema change; nothing to undo.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.redact import redact

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OUTBOX = sa.table("outbox", sa.column("id", sa.Integer), sa.column("last_error", sa.String))


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_OUTBOX.c.id, _OUTBOX.c.last_error).where(
            _OUTBOX.c.last_error.like("%/bot%") | _OUTBOX.c.last_error.like("%:%")
        )
    ).all()
    for row_id, text in rows:
        clean = redact(text or "")
        if clean != text:
            connection.execute(
                sa.update(_OUTBOX).where(_OUTBOX.c.id == row_id).values(last_error=clean)
            )


def downgrade() -> None:
    pass  # the tokens are gone on purpose
