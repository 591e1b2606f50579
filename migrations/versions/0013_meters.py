"""Smart meters: the meter's kind and head-end id on each account, and reconnection orders

Revision ID: 0013_meters
Revises: 0012_payments

A prepaid or smart-meter consumer cut off for non-payment is reconnected through the meter
head-end once a payment clears their dues (meters/). Every existing account is postpaid.
"""

import sqlalchemy as sa
from alembic import op

import core.models

revision = "0013_meters"
down_revision = "0012_payments"
branch_labels = None
depends_on = None

OPEN_ORDER_SQL = "status IN ('waiting', 'commanded')"
UNCHECKED_SQL = "callback_checked_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("consumer_accounts") as batch:
        batch.add_column(
            sa.Column("meter_kind", sa.String(length=10), nullable=False, server_default="postpaid")
        )
        batch.add_column(sa.Column("head_end_meter_id", sa.String(length=40), nullable=True))
    op.create_table(
        "reconnection_orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "account_id", sa.Integer(), sa.ForeignKey("consumer_accounts.id"), nullable=False
        ),
        sa.Column("paid_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("meter_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("correlation_id", sa.String(length=64), nullable=True, unique=True),
        sa.Column("command_id", sa.String(length=64), nullable=True),
        sa.Column("relay_state", sa.String(length=20), nullable=True),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("polls", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column(
            "sms_message_id", sa.Integer(), sa.ForeignKey("outbound_messages.id"), nullable=True
        ),
        sa.Column("callback_id", sa.Integer(), sa.ForeignKey("callbacks.id"), nullable=True),
        sa.Column("callback_checked_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("commanded_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("account_id", "paid_at", name="uq_reconnection_orders_payment"),
    )
    op.create_index(
        "ix_reconnection_orders_open",
        "reconnection_orders",
        ["next_attempt_at"],
        sqlite_where=sa.text(OPEN_ORDER_SQL),
        postgresql_where=sa.text(OPEN_ORDER_SQL),
    )
    op.create_index(
        "ix_reconnection_orders_account", "reconnection_orders", ["account_id", "created_at"]
    )
    op.create_index(
        "ix_reconnection_orders_unchecked",
        "reconnection_orders",
        ["paid_at"],
        sqlite_where=sa.text(UNCHECKED_SQL),
        postgresql_where=sa.text(UNCHECKED_SQL),
    )


def downgrade() -> None:
    op.drop_index("ix_reconnection_orders_unchecked", table_name="reconnection_orders")
    op.drop_index("ix_reconnection_orders_account", table_name="reconnection_orders")
    op.drop_index("ix_reconnection_orders_open", table_name="reconnection_orders")
    op.drop_table("reconnection_orders")
    with op.batch_alter_table("consumer_accounts") as batch:
        batch.drop_column("head_end_meter_id")
        batch.drop_column("meter_kind")
