"""applications and demand notes

Revision ID: 0006_applications
Revises: 0005_call_attempts

Reserved in the chain; filled in by the work it names.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import core.models  # noqa: F401

revision = "0006_applications"
down_revision = "0005_call_attempts"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
