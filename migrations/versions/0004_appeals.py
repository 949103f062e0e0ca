"""Appeals: messages, workflow events, routing rules, ratings.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Russian full-text search over the message text (PostgreSQL only; SQLite searches with LIKE).
FTS_INDEX = "ix_appeals_text_fts"


def upgrade():
    op.create_table('appeal_region_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('max_postponement_days', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('max_postponement_days BETWEEN 1 AND 365', name=op.f('ck_appeal_region_settings_max_postponement_days_range')),
    sa.ForeignKeyConstraint(['territory_id'], ['territories.id'], name=op.f('fk_appeal_region_settings_territory_id_territories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_region_settings')),
    sa.UniqueConstraint('territory_id', name=op.f('uq_appeal_region_settings_territory_id'))
    )
    op.create_table('appeal_routing_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subcategory_id', sa.Integer(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_appeal_routing_rules_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subcategory_id'], ['appeal_subcategories.id'], name=op.f('fk_appeal_routing_rules_subcategory_id_appeal_subcategories')),
    sa.ForeignKeyConstraint(['territory_id'], ['territories.id'], name=op.f('fk_appeal_routing_rules_territory_id_territories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_routing_rules')),
    sa.UniqueConstraint('subcategory_id', 'territory_id', name=op.f('uq_appeal_routing_rules_subcategory_id_territory_id'))
    )
    with op.batch_alter_table('appeal_routing_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_routing_rules_organization_id'), ['organization_id'], unique=False)

    op.create_table('appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=False),
    sa.Column('submission_key', sa.String(length=64), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('caller_name', sa.String(length=300), nullable=True),
    sa.Column('caller_phone', sa.String(length=20), nullable=True),
    sa.Column('caller_email', sa.String(length=254), nullable=True),
    sa.Column('channel', sa.Enum('portal', 'widget', 'api', 'operator', name='channel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('widget_organization_id', sa.Integer(), nullable=True),
    sa.Column('subcategory_id', sa.Integer(), nullable=False),
    sa.Column('suggested_subcategory_id', sa.Integer(), nullable=True),
    sa.Column('suggestion_confidence', sa.Double(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=True),
    sa.Column('latitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('longitude', sa.Numeric(precision=9, scale=6), nullable=True),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('applicant_region_id', sa.Integer(), nullable=True),
    sa.Column('executor_organization_id', sa.Integer(), nullable=False),
    sa.Column('holder_organization_id', sa.Integer(), nullable=False),
    sa.Column('executor_id', sa.Integer(), nullable=True),
    sa.Column('auto_routed', sa.Boolean(), nullable=False),
    sa.Column('arrival', sa.Enum('new', 'after_moderation', 'from_higher', 'from_lower', 'from_non_subordinate', name='arrival', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('state', sa.Enum('moderation', 'rejected', 'coordination', 'assignment', 'in_work', 'approval', 'postponed', 'answered', 'closed', 'escalated', name='state', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('bucket', sa.Enum('new', 'in_work', 'answered', 'approval', 'returned', 'postponed', 'redirected', 'done', name='bucket', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('returned_from', sa.Enum('head', 'resident', name='returned_from', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('fast_track', sa.Boolean(), nullable=False),
    sa.Column('term_days', sa.Integer(), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('coordination_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('original_answer_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('postponed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('postponement_reason', sa.Text(), nullable=True),
    sa.Column('postponement_count', sa.Integer(), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rework_count', sa.Integer(), nullable=False),
    sa.Column('soon_due_flagged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overdue_flagged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('review_of_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("author_id IS NOT NULL OR channel = 'operator'", name=op.f('ck_appeals_author_or_operator')),
    sa.CheckConstraint("channel <> 'widget' OR widget_organization_id IS NOT NULL", name=op.f('ck_appeals_widget_has_owner')),
    sa.CheckConstraint('coordination_due_at <= answer_due_at', name=op.f('ck_appeals_coordination_first')),
    sa.CheckConstraint('cycle >= 1', name=op.f('ck_appeals_cycle_positive')),
    sa.CheckConstraint('latitude IS NULL OR latitude BETWEEN -90 AND 90', name=op.f('ck_appeals_latitude')),
    sa.CheckConstraint('length(text) > 0', name=op.f('ck_appeals_text_not_empty')),
    sa.CheckConstraint('longitude IS NULL OR longitude BETWEEN -180 AND 180', name=op.f('ck_appeals_longitude')),
    sa.CheckConstraint('term_days > 0', name=op.f('ck_appeals_term_positive')),
    sa.ForeignKeyConstraint(['applicant_region_id'], ['territories.id'], name=op.f('fk_appeals_applicant_region_id_territories')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_appeals_author_id_users')),
    sa.ForeignKeyConstraint(['executor_id'], ['users.id'], name=op.f('fk_appeals_executor_id_users')),
    sa.ForeignKeyConstraint(['executor_organization_id'], ['organizations.id'], name=op.f('fk_appeals_executor_organization_id_organizations')),
    sa.ForeignKeyConstraint(['holder_organization_id'], ['organizations.id'], name=op.f('fk_appeals_holder_organization_id_organizations')),
    sa.ForeignKeyConstraint(['region_id'], ['territories.id'], name=op.f('fk_appeals_region_id_territories')),
    sa.ForeignKeyConstraint(['review_of_id'], ['appeals.id'], name=op.f('fk_appeals_review_of_id_appeals')),
    sa.ForeignKeyConstraint(['subcategory_id'], ['appeal_subcategories.id'], name=op.f('fk_appeals_subcategory_id_appeal_subcategories')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_appeals_submitted_by_id_users')),
    sa.ForeignKeyConstraint(['suggested_subcategory_id'], ['appeal_subcategories.id'], name=op.f('fk_appeals_suggested_subcategory_id_appeal_subcategories')),
    sa.ForeignKeyConstraint(['territory_id'], ['territories.id'], name=op.f('fk_appeals_territory_id_territories')),
    sa.ForeignKeyConstraint(['widget_organization_id'], ['organizations.id'], name=op.f('fk_appeals_widget_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeals')),
    sa.UniqueConstraint('review_of_id', name=op.f('uq_appeals_review_of_id')),
    sa.UniqueConstraint('submitted_by_id', 'submission_key', name=op.f('uq_appeals_submitted_by_id_submission_key'))
    )
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.create_index('ix_appeals_author', ['author_id', 'registered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeals_executor_id'), ['executor_id'], unique=False)
        batch_op.create_index('ix_appeals_inbox_due', ['holder_organization_id', 'bucket', 'answer_due_at', 'id'], unique=False, postgresql_include=['channel', 'arrival'])
        batch_op.create_index('ix_appeals_inbox_registered', ['holder_organization_id', 'bucket', 'registered_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeals_region_id'), ['region_id'], unique=False)
        batch_op.create_index('ix_appeals_sweep', ['bucket', 'answer_due_at'], unique=False)

    op.create_table('appeal_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('submitted', 'approved', 'returned', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('remarks', sa.Text(), nullable=True),
    sa.CheckConstraint('length(text) > 0', name=op.f('ck_appeal_answers_text_not_empty')),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_appeal_answers_appeal_id_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_appeal_answers_author_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_appeal_answers_decided_by_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_appeal_answers_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_answers'))
    )
    with op.batch_alter_table('appeal_answers', schema=None) as batch_op:
        batch_op.create_index('ix_appeal_answers_appeal', ['appeal_id', 'created_at'], unique=False)

    op.create_table('appeal_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=40), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('from_state', sa.String(length=40), nullable=True),
    sa.Column('to_state', sa.String(length=40), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_appeal_events_actor_id_users')),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_appeal_events_appeal_id_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_appeal_events_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_events'))
    )
    with op.batch_alter_table('appeal_events', schema=None) as batch_op:
        batch_op.create_index('ix_appeal_events_appeal', ['appeal_id', 'at'], unique=False)

    op.create_table('appeal_handoffs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('from_organization_id', sa.Integer(), nullable=False),
    sa.Column('to_organization_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('forward', 'redirect', 'escalation', name='kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('relation', sa.Enum('subordinate', 'higher', 'non_subordinate', name='relation', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind <> 'redirect' OR reason IS NOT NULL", name=op.f('ck_appeal_handoffs_redirect_has_reason')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_appeal_handoffs_actor_id_users')),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_appeal_handoffs_appeal_id_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['from_organization_id'], ['organizations.id'], name=op.f('fk_appeal_handoffs_from_organization_id_organizations')),
    sa.ForeignKeyConstraint(['to_organization_id'], ['organizations.id'], name=op.f('fk_appeal_handoffs_to_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_handoffs'))
    )
    with op.batch_alter_table('appeal_handoffs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_handoffs_appeal_id'), ['appeal_id'], unique=False)
        batch_op.create_index('ix_appeal_handoffs_from', ['from_organization_id', 'kind', 'at'], unique=False)

    op.create_table('appeal_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('via', sa.Enum('cabinet', 'link', name='via', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('score BETWEEN 1 AND 5', name=op.f('ck_appeal_ratings_score_range')),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_appeal_ratings_appeal_id_appeals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_appeal_ratings_author_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_appeal_ratings_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_ratings')),
    sa.UniqueConstraint('appeal_id', name=op.f('uq_appeal_ratings_appeal_id'))
    )
    with op.batch_alter_table('appeal_ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_ratings_organization_id'), ['organization_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE INDEX {FTS_INDEX} ON appeals USING gin (to_tsvector('russian', text))"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {FTS_INDEX}")
    op.drop_table("appeal_ratings")
    op.drop_table("appeal_handoffs")
    op.drop_table("appeal_events")
    op.drop_table("appeal_answers")
    op.drop_table("appeals")
    op.drop_table("appeal_routing_rules")
    op.drop_table("appeal_region_settings")
