"""operator_states: each operator's state between calls (after-call work, away)

Revision ID: 0016_operator_states
Revises: 0015_outages

Take-next offers no callback to an operator in after-call work (for AFTER_CALL_WORK_SECONDS
after recording an outcome, or until "Ready") or away; the wallboard shows the states.
"""

import sqlalchemy as sa
from alembic import op

from core.models.types import UTCDateTime

revision = "0016_operator_states"
down_revision = "0015_outages"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "operator_states",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("state_since", UTCDateTime(timezone=True), nullable=False),
    )
    # The wallboard counts today's calls.
    op.create_index("ix_call_attempts_created", "call_attempts", ["created_at"])


def downgrade():
    op.drop_index("ix_call_attempts_created", table_name="call_attempts")
    op.drop_table("operator_states")
