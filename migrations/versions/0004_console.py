"""callback claims and the audit trail (console)

Revision ID: 0004_console
Revises: 0003_consumers

Reserved in the chain; filled in by the work it names.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import core.models  # noqa: F401

revision = "0004_console"
down_revision = "0003_consumers"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
