"""campaigns.recorded_at: calls are recorded in batches, and a campaign says when it is whole

Revision ID: 0010_campaign_recorded_at
Revises: 0009_hot_query_indexes

A campaign's calls used to be recorded in one transaction, which held SQLite's write lock
for seconds at 100,000 calls; they are now recorded a thousand at a time, and an
interrupted campaign is one whose recorded_at is still empty. Campaigns made before were
recorded whole when they were made.
"""

import sqlalchemy as sa
from alembic import op

import core.models

revision = "0010_campaign_recorded_at"
down_revision = "0009_hot_query_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(
            sa.Column("recorded_at", core.models.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE campaigns SET recorded_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("recorded_at")
