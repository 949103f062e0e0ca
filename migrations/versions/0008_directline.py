"""Direct line: events, questions, supports.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23

"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('directline_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('speaker', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('host_organization_id', sa.Integer(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=True),
    sa.Column('min_account_level', sa.Enum('simplified', 'standard', 'confirmed', name='min_account_level', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('questions_open_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('questions_close_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stream_url', sa.String(length=500), nullable=False),
    sa.Column('recording_url', sa.String(length=500), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('live_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(title) > 0', name=op.f('ck_directline_events_title_not_empty')),
    sa.CheckConstraint('questions_close_at <= ends_at', name=op.f('ck_directline_events_window_closes_by_end')),
    sa.CheckConstraint('questions_open_at < questions_close_at', name=op.f('ck_directline_events_window_order')),
    sa.CheckConstraint('questions_open_at <= starts_at', name=op.f('ck_directline_events_window_opens_before')),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_directline_events_broadcast_order')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_directline_events_created_by_id_users')),
    sa.ForeignKeyConstraint(['host_organization_id'], ['organizations.id'], name=op.f('fk_directline_events_host_organization_id_organizations')),
    sa.ForeignKeyConstraint(['territory_id'], ['territories.id'], name=op.f('fk_directline_events_territory_id_territories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directline_events'))
    )
    op.create_index(op.f('ix_directline_events_host_organization_id'), 'directline_events', ['host_organization_id'], unique=False)
    op.create_index('ix_directline_events_starts_at', 'directline_events', ['starts_at'], unique=False)
    op.create_table('directline_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('subcategory_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['directline_events.id'], name=op.f('fk_directline_categories_event_id_directline_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subcategory_id'], ['appeal_subcategories.id'], name=op.f('fk_directline_categories_subcategory_id_appeal_subcategories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directline_categories')),
    sa.UniqueConstraint('event_id', 'name', name=op.f('uq_directline_categories_event_id_name'))
    )
    op.create_table('directline_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('submission_key', sa.String(length=64), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=True),
    sa.Column('state', sa.Enum('new', 'published', 'shortlisted', 'on_air', 'answered', 'rejected', 'merged', name='state', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('moderated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('moderated_by_id', sa.Integer(), nullable=True),
    sa.Column('rejection_reason', sa.Enum('obscene', 'discrimination', 'third_party_data', 'advertising', 'unreadable', 'unclear', 'several_problems', name='rejection_reason', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('shortlist_position', sa.Integer(), nullable=True),
    sa.Column('on_air_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answer_text', sa.Text(), nullable=True),
    sa.Column('answer_url', sa.String(length=500), nullable=True),
    sa.Column('appeal_id', sa.Integer(), nullable=True),
    sa.Column('converted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('converted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(state = 'merged') = (merged_into_id IS NOT NULL)", name=op.f('ck_directline_questions_merged_has_target')),
    sa.CheckConstraint("(state = 'rejected') = (rejection_reason IS NOT NULL)", name=op.f('ck_directline_questions_rejection_has_reason')),
    sa.CheckConstraint("(state = 'shortlisted') = (shortlist_position IS NOT NULL)", name=op.f('ck_directline_questions_shortlist_has_position')),
    sa.CheckConstraint("state <> 'answered' OR (answered_at IS NOT NULL AND (answer_text IS NOT NULL OR answer_url IS NOT NULL))", name=op.f('ck_directline_questions_answered_has_answer')),
    sa.CheckConstraint('(appeal_id IS NULL) = (converted_at IS NULL)', name=op.f('ck_directline_questions_conversion_is_dated')),
    sa.CheckConstraint('length(text) > 0', name=op.f('ck_directline_questions_text_not_empty')),
    sa.CheckConstraint('merged_into_id <> id', name=op.f('ck_directline_questions_not_merged_into_itself')),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], name=op.f('fk_directline_questions_appeal_id_appeals')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_directline_questions_author_id_users')),
    sa.ForeignKeyConstraint(['category_id'], ['directline_categories.id'], name=op.f('fk_directline_questions_category_id_directline_categories')),
    sa.ForeignKeyConstraint(['converted_by_id'], ['users.id'], name=op.f('fk_directline_questions_converted_by_id_users')),
    sa.ForeignKeyConstraint(['event_id'], ['directline_events.id'], name=op.f('fk_directline_questions_event_id_directline_events')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['directline_questions.id'], name=op.f('fk_directline_questions_merged_into_id_directline_questions')),
    sa.ForeignKeyConstraint(['moderated_by_id'], ['users.id'], name=op.f('fk_directline_questions_moderated_by_id_users')),
    sa.ForeignKeyConstraint(['territory_id'], ['territories.id'], name=op.f('fk_directline_questions_territory_id_territories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directline_questions')),
    sa.UniqueConstraint('appeal_id', name=op.f('uq_directline_questions_appeal_id')),
    sa.UniqueConstraint('author_id', 'submission_key', name=op.f('uq_directline_questions_author_id_submission_key'))
    )
    op.create_index('ix_directline_questions_author', 'directline_questions', ['author_id', 'created_at'], unique=False)
    op.create_index('ix_directline_questions_event_state', 'directline_questions', ['event_id', 'state'], unique=False)
    op.create_index(op.f('ix_directline_questions_merged_into_id'), 'directline_questions', ['merged_into_id'], unique=False)
    op.create_index('uq_directline_questions_one_on_air', 'directline_questions', ['event_id'], unique=True, sqlite_where=sa.text("state = 'on_air'"), postgresql_where=sa.text("state = 'on_air'"))
    op.create_table('directline_coauthors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('from_question_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['from_question_id'], ['directline_questions.id'], name=op.f('fk_directline_coauthors_from_question_id_directline_questions')),
    sa.ForeignKeyConstraint(['question_id'], ['directline_questions.id'], name=op.f('fk_directline_coauthors_question_id_directline_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_directline_coauthors_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directline_coauthors')),
    sa.UniqueConstraint('question_id', 'user_id', name=op.f('uq_directline_coauthors_question_id_user_id'))
    )
    op.create_index(op.f('ix_directline_coauthors_user_id'), 'directline_coauthors', ['user_id'], unique=False)
    op.create_table('directline_supports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['directline_questions.id'], name=op.f('fk_directline_supports_question_id_directline_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_directline_supports_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directline_supports')),
    sa.UniqueConstraint('question_id', 'user_id', name=op.f('uq_directline_supports_question_id_user_id'))
    )
    op.create_index(op.f('ix_directline_supports_user_id'), 'directline_supports', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_directline_supports_user_id'), table_name='directline_supports')
    op.drop_table('directline_supports')
    op.drop_index(op.f('ix_directline_coauthors_user_id'), table_name='directline_coauthors')
    op.drop_table('directline_coauthors')
    op.drop_index('uq_directline_questions_one_on_air', table_name='directline_questions', sqlite_where=sa.text("state = 'on_air'"), postgresql_where=sa.text("state = 'on_air'"))
    op.drop_index(op.f('ix_directline_questions_merged_into_id'), table_name='directline_questions')
    op.drop_index('ix_directline_questions_event_state', table_name='directline_questions')
    op.drop_index('ix_directline_questions_author', table_name='directline_questions')
    op.drop_table('directline_questions')
    op.drop_table('directline_categories')
    op.drop_index('ix_directline_events_starts_at', table_name='directline_events')
    op.drop_index(op.f('ix_directline_events_host_organization_id'), table_name='directline_events')
    op.drop_table('directline_events')
