"""Read receipts: how far each side of a chat has read.

Revision ID: 0002_read_markers
Revises: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0002_read_markers"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for side in ("customer", "mitra"):
        op.add_column(
            "chat_sessions",
            sa.Column(
                f"{side}_read_up_to",
                UUID(as_uuid=True),
                sa.ForeignKey("chat_messages.id", ondelete="SET NULL"),
                nullable=True,
            ),
        )
        op.add_column(
            "chat_sessions", sa.Column(f"{side}_read_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    for side in ("customer", "mitra"):
        op.drop_column("chat_sessions", f"{side}_read_at")
        op.drop_column("chat_sessions", f"{side}_read_up_to")
