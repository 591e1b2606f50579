"""outbound announcement campaigns

Revision ID: 0007_campaigns
Revises: 0006_applications
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import core.models  # noqa: F401

revision = "0007_campaigns"
down_revision = "0006_applications"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("min_days", sa.Integer(), nullable=True),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("name", name=op.f("uq_campaigns_name")),
    )
    op.create_table(
        "campaign_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("last_result", sa.String(length=24), nullable=True),
        sa.Column("callback_requested", sa.Boolean(), nullable=False),
        sa.Column("updated_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_calls_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["consumer_accounts.id"],
            name=op.f("fk_campaign_calls_account_id_consumer_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_campaign_calls_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_calls")),
        sa.UniqueConstraint("campaign_id", "phone", name="uq_campaign_calls_phone"),
    )
    op.create_index("ix_campaign_calls_call_sid", "campaign_calls", ["call_sid"])


def downgrade():
    op.drop_index("ix_campaign_calls_call_sid", table_name="campaign_calls")
    op.drop_table("campaign_calls")
    op.drop_table("campaigns")
