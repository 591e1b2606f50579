"""applications and demand notes

Revision ID: 0006_applications
Revises: 0005_call_attempts
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import core.models  # noqa: F401

revision = "0006_applications"
down_revision = "0005_call_attempts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=True),
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("account_number", sa.String(length=20), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("demand_total", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("demand_items", sa.JSON(), nullable=True),
        sa.Column("callback_id", sa.Integer(), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["callback_id"], ["callbacks.id"], name=op.f("fk_applications_callback_id_callbacks")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["users.id"], name=op.f("fk_applications_operator_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
        sa.UniqueConstraint("number", name=op.f("uq_applications_number")),
    )
    op.create_index("ix_applications_phone", "applications", ["phone"])


def downgrade():
    op.drop_index("ix_applications_phone", table_name="applications")
    op.drop_table("applications")
