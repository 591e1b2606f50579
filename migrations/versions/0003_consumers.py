"""consumer accounts, linked numbers, bills (IVR)

Revision ID: 0003_consumers
Revises: 0002_users
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import core.models  # noqa: F401

revision = "0003_consumers"
down_revision = "0002_users"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "consumer_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_number", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("area_type", sa.String(length=10), nullable=False),
        sa.Column("supply_status", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consumer_accounts")),
        sa.UniqueConstraint("account_number", name=op.f("uq_consumer_accounts_account_number")),
    )
    op.create_table(
        "linked_numbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["consumer_accounts.id"],
            name=op.f("fk_linked_numbers_account_id_consumer_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linked_numbers")),
        sa.UniqueConstraint("phone", "account_id", name=op.f("uq_linked_numbers_phone")),
    )
    op.create_table(
        "bills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("bill_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount_due", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("amount_after_due", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("paid_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["consumer_accounts.id"],
            name=op.f("fk_bills_account_id_consumer_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bills")),
    )
    op.create_index("ix_bills_account_date", "bills", ["account_id", "bill_date"])
    op.create_index("ix_linked_numbers_account", "linked_numbers", ["account_id"])
    op.create_table(
        "supply_faults",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=12), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reported_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["consumer_accounts.id"],
            name=op.f("fk_supply_faults_account_id_consumer_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_faults")),
        sa.UniqueConstraint("reference", name=op.f("uq_supply_faults_reference")),
    )
    op.create_index(
        "ix_supply_faults_phone_reported", "supply_faults", ["phone", "reported_at"]
    )


def downgrade():
    op.drop_index("ix_supply_faults_phone_reported", table_name="supply_faults")
    op.drop_table("supply_faults")
    op.drop_index("ix_linked_numbers_account", table_name="linked_numbers")
    op.drop_index("ix_bills_account_date", table_name="bills")
    op.drop_table("bills")
    op.drop_table("linked_numbers")
    op.drop_table("consumer_accounts")
