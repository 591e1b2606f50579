"""callback claims and the audit trail (console)

Revision ID: 0004_console
Revises: 0003_consumers
"""
from alembic import op
import sqlalchemy as sa

import core.models

revision = "0004_console"
down_revision = "0003_consumers"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("callbacks") as batch_op:
        batch_op.add_column(sa.Column("claimed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("claimed_at", core.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("disposition", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("callback_later_at", core.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("required_language", sa.String(length=5), nullable=True))
    if op.get_bind().dialect.name != "sqlite":
        # SQLite cannot add a constraint to an existing table without rebuilding it (and
        # its partial unique index); there the model's foreign key is not enforced.
        op.create_foreign_key(
            op.f("fk_callbacks_claimed_by_id_users"), "callbacks", "users", ["claimed_by_id"], ["id"]
        )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_audit_events_actor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_entity", "audit_events", ["entity", "entity_id", "at"])


def downgrade():
    op.drop_index("ix_audit_events_entity", table_name="audit_events")
    op.drop_table("audit_events")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_callbacks_claimed_by_id_users"), "callbacks", type_="foreignkey")
    with op.batch_alter_table("callbacks") as batch_op:
        batch_op.drop_column("required_language")
        batch_op.drop_column("callback_later_at")
        batch_op.drop_column("disposition")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("claimed_by_id")
