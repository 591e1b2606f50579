"""callbacks.slot and inbound_messages: consumers choose when to be called back

Revision ID: 0018_callback_slots
Revises: 0017_bulk_sms

A callback records the part of the day its consumer asked for (morning, afternoon,
evening; NULL: as soon as possible); its due_at is the slot's start, so the take-next
index serves it unchanged. Inbound SMS are recorded once per provider id, so that a
redelivered "CALL EVENING" is acted on once.
"""

import sqlalchemy as sa
from alembic import op

from core.models.types import PHONE, UTCDateTime

revision = "0018_callback_slots"
down_revision = "0017_bulk_sms"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("callbacks") as batch:
        batch.add_column(sa.Column("slot", sa.String(length=16), nullable=True))
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_sid", sa.String(length=64), nullable=False),
        sa.Column("sender", PHONE, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=True),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["callback_id"], ["callbacks.id"], name="fk_inbound_messages_callback_id_callbacks"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_inbound_messages"),
        sa.UniqueConstraint("provider_sid", name="uq_inbound_messages_provider_sid"),
    )
    op.create_index(
        "ix_inbound_messages_sender_received", "inbound_messages", ["sender", "received_at"]
    )


def downgrade():
    op.drop_index("ix_inbound_messages_sender_received", table_name="inbound_messages")
    op.drop_table("inbound_messages")
    with op.batch_alter_table("callbacks") as batch:
        batch.drop_column("slot")
