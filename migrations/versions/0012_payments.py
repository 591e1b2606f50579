"""payments: payment links, payments received, gateway events handled; applications.paid_at

Revision ID: 0012_payments
Revises: 0011_session_version
"""

import sqlalchemy as sa
from alembic import op

from core.models.types import UTCDateTime

revision = "0012_payments"
down_revision = "0011_session_version"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(12, 2)


def upgrade():
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("paid_at", UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "payment_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("application_id", sa.Integer(), sa.ForeignKey("applications.id"), nullable=False),
        sa.Column("reference_id", sa.String(40), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("gateway_link_id", sa.String(40), nullable=True),
        sa.Column("short_url", sa.String(200), nullable=True),
        sa.Column("expire_by", UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(300), nullable=True),
        sa.Column("job_queued_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("application_id"),
        sa.UniqueConstraint("reference_id"),
        sa.UniqueConstraint("gateway_link_id"),
    )
    op.create_index("ix_payment_links_pending", "payment_links", ["status", "job_queued_at"])
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("application_id", sa.Integer(), sa.ForeignKey("applications.id"), nullable=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("consumer_accounts.id"), nullable=True),
        sa.Column("bill_id", sa.Integer(), sa.ForeignKey("bills.id"), nullable=True),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("gateway_link_id", sa.String(40), nullable=True),
        sa.Column("paid_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("source", "external_id", name="uq_payments_source_external"),
    )
    op.create_index("ix_payments_application", "payments", ["application_id"])
    op.create_index("ix_payments_flagged", "payments", ["flagged", "id"])
    op.create_table(
        "payment_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("payment_id", sa.Integer(), sa.ForeignKey("payments.id"), nullable=True),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("source", "event_id", name="uq_payment_events_event"),
    )


def downgrade():
    op.drop_table("payment_events")
    op.drop_index("ix_payments_flagged", table_name="payments")
    op.drop_index("ix_payments_application", table_name="payments")
    op.drop_table("payments")
    op.drop_index("ix_payment_links_pending", table_name="payment_links")
    op.drop_table("payment_links")
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("paid_at")
