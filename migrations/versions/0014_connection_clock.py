"""the connection clock: clocks, stage history, field engineers' areas

Revision ID: 0014_connection_clock
Revises: 0013_meters

A paid new-connection application gets a clock (its area, area class and deadline fixed
at payment) and a history of the stages field engineers record; a field engineer's
account names their area.
"""

import sqlalchemy as sa
from alembic import op

import core.models

revision = "0014_connection_clock"
down_revision = "0013_meters"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("area", sa.String(length=120), nullable=True))
    op.create_table(
        "connection_clocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("area_type", sa.String(length=10), nullable=False),
        sa.Column("area_class", sa.String(length=16), nullable=False),
        sa.Column("district", sa.String(length=80), nullable=False),
        sa.Column("subdivision", sa.String(length=80), nullable=False),
        sa.Column("start_event", sa.String(length=12), nullable=False),
        sa.Column("started_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("incentive_due_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("stage_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("energised_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("energised_by_id", sa.Integer(), nullable=True),
        sa.Column("rejected_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reject_reason", sa.String(length=300), nullable=True),
        sa.Column("overdue_alerted_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_connection_clocks_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["energised_by_id"],
            ["users.id"],
            name=op.f("fk_connection_clocks_energised_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connection_clocks")),
        sa.UniqueConstraint("application_id", name=op.f("uq_connection_clocks_application_id")),
    )
    op.create_index(
        "ix_connection_clocks_open_due",
        "connection_clocks",
        ["energised_at", "rejected_at", "due_at"],
    )
    op.create_index("ix_connection_clocks_area", "connection_clocks", ["district", "subdivision"])
    op.create_index("ix_connection_clocks_energised", "connection_clocks", ["energised_at"])
    op.create_table(
        "connection_stages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_connection_stages_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_connection_stages_actor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connection_stages")),
    )
    op.create_index(
        "ix_connection_stages_application", "connection_stages", ["application_id", "at"]
    )


def downgrade():
    op.drop_index("ix_connection_stages_application", table_name="connection_stages")
    op.drop_table("connection_stages")
    op.drop_index("ix_connection_clocks_energised", table_name="connection_clocks")
    op.drop_index("ix_connection_clocks_area", table_name="connection_clocks")
    op.drop_index("ix_connection_clocks_open_due", table_name="connection_clocks")
    op.drop_table("connection_clocks")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("area")
