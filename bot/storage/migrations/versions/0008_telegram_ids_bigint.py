"""Telegram ids as BIGINT: person.telegram_id and the chat_id of chatsubscription, outbox and
sentmessage (supergroup ids are below -10¹², user ids pass 2³¹). SQLite stores any integer in
any INTEGER column; PostgreSQL's INTEGER is 32-bit and would refuse them.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [
    ("person", "telegram_id", True),
    ("chatsubscription", "chat_id", False),
    ("outbox", "chat_id", False),
    ("sentmessage", "chat_id", False),
]


def upgrade() -> None:
    for table, column, nullable in COLUMNS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.Integer(),
                type_=sa.BigInteger(),
                existing_nullable=nullable,
            )


def downgrade() -> None:
    for table, column, nullable in COLUMNS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.BigInteger(),
                type_=sa.Integer(),
                existing_nullable=nullable,
            )
