"""payments.recorded_at indexed: the sweep looks again at the day's payments

Revision ID: 0020_payments_recorded
Revises: 0017_bulk_sms

A payment commits before its ``dues_cleared`` signal goes out; the sweep reads the
payments recorded in the last day to find one whose signal a dying process never sent
(meters.reconnection.recover_lost_orders), by this index rather than the whole table.
"""

from alembic import op

revision = "0020_payments_recorded"
down_revision = "0017_bulk_sms"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_payments_recorded", "payments", ["recorded_at"])


def downgrade():
    op.drop_index("ix_payments_recorded", table_name="payments")
