"""Outage notices: consumers' feeder and area, outages, and the SMS sent about them

Revision ID: 0015_outages
Revises: 0014_connection_clock
"""

import sqlalchemy as sa
from alembic import op

from core.models.types import PHONE, UTCDateTime

revision = "0015_outages"
down_revision = "0014_connection_clock"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("consumer_accounts") as batch:
        batch.add_column(sa.Column("feeder", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("area", sa.String(length=80), nullable=True))
        batch.create_index("ix_consumer_accounts_feeder", ["feeder"])
        batch.create_index("ix_consumer_accounts_area", ["area"])
    op.create_table(
        "outages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("feeder", sa.String(length=40), nullable=True),
        sa.Column("area", sa.String(length=80), nullable=True),
        sa.Column("starts_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expected_restoration_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason_code", sa.String(length=20), nullable=False),
        sa.Column("reason_note", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("notices_recorded_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("restored_notices_recorded_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("submission_key", sa.String(length=64), nullable=True, unique=True),
    )
    op.create_index("ix_outages_state_feeder", "outages", ["state", "feeder", "area"])
    op.create_table(
        "outage_notices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("outage_id", sa.Integer(), sa.ForeignKey("outages.id"), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("phone", PHONE, nullable=False),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("outbound_messages.id"), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("outage_id", "kind", "phone", name="uq_outage_notices_phone"),
    )
    op.create_index("ix_outage_notices_message", "outage_notices", ["message_id"])


def downgrade():
    op.drop_index("ix_outage_notices_message", table_name="outage_notices")
    op.drop_table("outage_notices")
    op.drop_index("ix_outages_state_feeder", table_name="outages")
    op.drop_table("outages")
    with op.batch_alter_table("consumer_accounts") as batch:
        batch.drop_index("ix_consumer_accounts_area")
        batch.drop_index("ix_consumer_accounts_feeder")
        batch.drop_column("area")
        batch.drop_column("feeder")
