"""the take-next index: pending callbacks in the queue's order

Revision ID: 0008_take_next_index
Revises: 0007_campaigns

Take-next and the queue page read the pending callbacks in the order (priority desc,
due_at, id). The index on (status, priority, due_at) served neither direction of that
order, so PostgreSQL sorted every pending callback for each claim. This partial index
holds the queue in exactly that order.
"""
import sqlalchemy as sa
from alembic import op

from core.models.calls import PENDING_CALLBACK_SQL

revision = "0008_take_next_index"
down_revision = "0007_campaigns"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_callbacks_queue", table_name="callbacks")
    op.create_index(
        "ix_callbacks_take_next",
        "callbacks",
        [sa.text("priority DESC"), "due_at", "id"],
        sqlite_where=sa.text(PENDING_CALLBACK_SQL),
        postgresql_where=sa.text(PENDING_CALLBACK_SQL),
    )


def downgrade():
    op.drop_index("ix_callbacks_take_next", table_name="callbacks")
    op.create_index("ix_callbacks_queue", "callbacks", ["status", "priority", "due_at"])
