"""users.language: the console's language each user chose (Hindi or English)

Revision ID: 0021_user_language
Revises: 0020_sweep_indexes

Users who exist already have been working in the English console, so they keep English
until they press the switch; a user made from now has none (NULL) and is shown the
language their browser asks for, else CONSOLE_DEFAULT_LANGUAGE (Hindi).
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_user_language"
down_revision = "0020_sweep_indexes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("language", sa.String(length=5), nullable=True))
    op.execute("UPDATE users SET language = 'en'")


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("language")
