"""indexes for the console's and the workers' queries at a DISCOM's scale

Revision ID: 0009_hot_query_indexes
Revises: 0008_take_next_index

Found by tests/core/test_query_plans.py: with a year of records, each of these queries
read a whole table. Partial indexes hold only the few rows their query looks for (the
sweep's attempts and campaign calls in flight, closed callbacks), so the intake and the
workers write them rarely.
"""

import sqlalchemy as sa
from alembic import op

from core.models.attempts import IN_FLIGHT_ATTEMPT_SQL
from core.models.campaigns import WAITING_CAMPAIGN_CALL_SQL

revision = "0009_hot_query_indexes"
down_revision = "0008_take_next_index"
branch_labels = None
depends_on = None


def _partial(where: str) -> dict[str, sa.TextClause]:
    return {"sqlite_where": sa.text(where), "postgresql_where": sa.text(where)}


INDEXES = (
    ("ix_callbacks_phone_created", "callbacks", ["phone", "created_at"], {}),
    ("ix_callbacks_first_missed", "callbacks", ["first_missed_at"], {}),
    ("ix_callbacks_closed", "callbacks", ["closed_at"], _partial("closed_at IS NOT NULL")),
    ("ix_missed_calls_received", "missed_calls", ["received_at"], {}),
    ("ix_applications_account_number", "applications", ["account_number"], {}),
    ("ix_applications_submitted", "applications", ["submitted_at"], {}),
    ("ix_applications_created", "applications", ["created_at"], {}),
    (
        "ix_call_attempts_in_flight",
        "call_attempts",
        ["status", "status_at"],
        _partial(IN_FLIGHT_ATTEMPT_SQL),
    ),
    (
        "ix_campaign_calls_waiting",
        "campaign_calls",
        ["due_at"],
        _partial(WAITING_CAMPAIGN_CALL_SQL),
    ),
)


def upgrade():
    for name, table, columns, options in INDEXES:
        op.create_index(name, table, columns, **options)


def downgrade():
    for name, table, _columns, _options in reversed(INDEXES):
        op.drop_index(name, table_name=table)
