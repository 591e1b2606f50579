"""outbound_messages.job_id: SMS are sent in batches, one RQ job per batch

Revision ID: 0017_bulk_sms
Revises: 0016_operator_states

A message's send job was named after the message (``sms-<id>``); a batch job sends many,
so each message records the id of the job that holds it, for the sweep to look up.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_bulk_sms"
down_revision = "0016_operator_states"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbound_messages") as batch:
        batch.add_column(sa.Column("job_id", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("outbound_messages") as batch:
        batch.drop_column("job_id")
