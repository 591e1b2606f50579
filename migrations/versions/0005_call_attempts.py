"""outbound call attempts (calling)

Revision ID: 0005_call_attempts
Revises: 0004_console

Reserved in the chain; filled in by the work it names.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import core.models  # noqa: F401

revision = "0005_call_attempts"
down_revision = "0004_console"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
