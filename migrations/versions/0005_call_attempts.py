"""outbound call attempts (calling)

Revision ID: 0005_call_attempts
Revises: 0004_console
"""
from alembic import op
import sqlalchemy as sa

import core.models

revision = "0005_call_attempts"
down_revision = "0004_console"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "call_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=True),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("placed_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ringing_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("consumer_status", sa.String(length=16), nullable=True),
        sa.Column("consumer_duration", sa.Integer(), nullable=True),
        sa.Column("recording_url", sa.String(length=500), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("settled_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["callback_id"],
            ["callbacks.id"],
            name=op.f("fk_call_attempts_callback_id_callbacks"),
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["users.id"], name=op.f("fk_call_attempts_operator_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_attempts")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_call_attempts_call_sid")),
    )
    op.create_index("ix_call_attempts_callback", "call_attempts", ["callback_id", "id"])


def downgrade():
    op.drop_index("ix_call_attempts_callback", table_name="call_attempts")
    op.drop_table("call_attempts")
