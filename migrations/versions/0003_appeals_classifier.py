"""Appeals classifier: categories, subcategories, fast-track overrides, topic corrections.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "appeal_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_categories")),
        sa.UniqueConstraint("code", name=op.f("uq_appeal_categories_code")),
        sa.UniqueConstraint("name", name=op.f("uq_appeal_categories_name")),
    )
    op.create_table(
        "appeal_subcategories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("fast_track", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["appeal_categories.id"],
            name=op.f("fk_appeal_subcategories_category_id_appeal_categories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_subcategories")),
        sa.UniqueConstraint("code", name=op.f("uq_appeal_subcategories_code")),
        sa.UniqueConstraint(
            "category_id", "name", name=op.f("uq_appeal_subcategories_category_id_name")
        ),
    )
    with op.batch_alter_table("appeal_subcategories", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appeal_subcategories_category_id"), ["category_id"], unique=False
        )

    op.create_table(
        "appeal_region_fast_tracks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("territory_id", sa.Integer(), nullable=False),
        sa.Column("subcategory_id", sa.Integer(), nullable=False),
        sa.Column("fast_track", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subcategory_id"],
            ["appeal_subcategories.id"],
            name=op.f("fk_appeal_region_fast_tracks_subcategory_id_appeal_subcategories"),
        ),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territories.id"],
            name=op.f("fk_appeal_region_fast_tracks_territory_id_territories"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_appeal_region_fast_tracks_updated_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_region_fast_tracks")),
        sa.UniqueConstraint(
            "territory_id",
            "subcategory_id",
            name=op.f("uq_appeal_region_fast_tracks_territory_id_subcategory_id"),
        ),
    )
    with op.batch_alter_table("appeal_region_fast_tracks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appeal_region_fast_tracks_subcategory_id"),
            ["subcategory_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_appeal_region_fast_tracks_territory_id"), ["territory_id"], unique=False
        )

    op.create_table(
        "appeal_topic_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("suggested_subcategory_id", sa.Integer(), nullable=True),
        sa.Column("chosen_subcategory_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("appeal_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chosen_subcategory_id"],
            ["appeal_subcategories.id"],
            name=op.f("fk_appeal_topic_corrections_chosen_subcategory_id_appeal_subcategories"),
        ),
        sa.ForeignKeyConstraint(
            ["suggested_subcategory_id"],
            ["appeal_subcategories.id"],
            name=op.f(
                "fk_appeal_topic_corrections_suggested_subcategory_id_appeal_subcategories"
            ),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_appeal_topic_corrections_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_topic_corrections")),
    )
    with op.batch_alter_table("appeal_topic_corrections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appeal_topic_corrections_appeal_id"), ["appeal_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_appeal_topic_corrections_chosen_subcategory_id"),
            ["chosen_subcategory_id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("appeal_topic_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appeal_topic_corrections_chosen_subcategory_id"))
        batch_op.drop_index(batch_op.f("ix_appeal_topic_corrections_appeal_id"))
    op.drop_table("appeal_topic_corrections")
    with op.batch_alter_table("appeal_region_fast_tracks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appeal_region_fast_tracks_territory_id"))
        batch_op.drop_index(batch_op.f("ix_appeal_region_fast_tracks_subcategory_id"))
    op.drop_table("appeal_region_fast_tracks")
    with op.batch_alter_table("appeal_subcategories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appeal_subcategories_category_id"))
    op.drop_table("appeal_subcategories")
    op.drop_table("appeal_categories")
