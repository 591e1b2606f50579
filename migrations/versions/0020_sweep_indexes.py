"""Indexes for two sweeps: the day's payments, and campaign calls a dead worker left placing

Revision ID: 0020_sweep_indexes
Revises: 0018_callback_slots

A payment commits before its ``dues_cleared`` signal goes out; the sweep reads the
payments recorded in the last day to find one whose signal a dying process never sent
(meters.reconnection.recover_lost_orders). A campaign call is marked calling before the
provider is asked to place it; the sweep settles those a worker died placing
(callqueue.campaigns.settle_stuck_calls). Each reads its few rows by an index.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_sweep_indexes"
down_revision = "0018_callback_slots"
branch_labels = None
depends_on = None

PLACING = "status = 'calling' AND call_sid IS NULL"


def upgrade():
    op.create_index("ix_payments_recorded", "payments", ["recorded_at"])
    op.create_index(
        "ix_campaign_calls_placing",
        "campaign_calls",
        ["updated_at"],
        sqlite_where=sa.text(PLACING),
        postgresql_where=sa.text(PLACING),
    )


def downgrade():
    op.drop_index("ix_campaign_calls_placing", table_name="campaign_calls")
    op.drop_index("ix_payments_recorded", table_name="payments")
