"""users.session_version: ending a user's console sessions

Revision ID: 0011_session_version
Revises: 0010_campaign_recorded_at

A console session names its user with this version; logging out, changing the password
or disabling the account raises it, which ends every session the user had.
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_session_version"
down_revision = "0010_campaign_recorded_at"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
