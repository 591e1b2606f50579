"""consumer accounts, linked numbers, bills (IVR)

Revision ID: 0003_consumers
Revises: 0002_users

Reserved in the chain; filled in by the work it names.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import core.models  # noqa: F401

revision = "0003_consumers"
down_revision = "0002_users"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
