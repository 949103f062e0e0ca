"""Appeals classifier: categories, subcategories, fast-track overrides, topic corrections.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    pass  # placeholder: filled in by the feature's own change


def downgrade():
    pass
