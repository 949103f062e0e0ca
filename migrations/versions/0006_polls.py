"""Surveys: questionnaires, questions, options, responses.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('copied_from_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('min_level', sa.Enum('simplified', 'standard', 'confirmed', name='min_level', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('min_age', sa.Integer(), nullable=True),
    sa.Column('max_age', sa.Integer(), nullable=True),
    sa.Column('gender', sa.Enum('M', 'F', name='gender', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('allow_legal_entities', sa.Boolean(), nullable=False),
    sa.Column('results_public', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_surveys_period_order')),
    sa.CheckConstraint('min_age IS NULL OR max_age IS NULL OR min_age <= max_age', name=op.f('ck_surveys_age_order')),
    sa.CheckConstraint('min_age IS NULL OR min_age >= 0', name=op.f('ck_surveys_min_age_nonnegative')),
    sa.ForeignKeyConstraint(['copied_from_id'], ['surveys.id'], name=op.f('fk_surveys_copied_from_id_surveys'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_surveys_created_by_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_surveys_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys'))
    )
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_surveys_organization_id'), ['organization_id'], unique=False)

    op.create_table('survey_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('preview', sa.Boolean(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('section_index', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_drafts_survey_id_surveys'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_survey_drafts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_drafts')),
    sa.UniqueConstraint('survey_id', 'user_id', 'preview', name=op.f('uq_survey_drafts_survey_id_user_id_preview'))
    )
    with op.batch_alter_table('survey_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_drafts_user_id'), ['user_id'], unique=False)

    op.create_table('survey_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('format', sa.Enum('csv', 'xlsx', name='format', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_survey_exports_requested_by_id_users')),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_exports_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_exports'))
    )
    with op.batch_alter_table('survey_exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_exports_survey_id'), ['survey_id'], unique=False)

    op.create_table('survey_participants',
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('answered_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_participants_survey_id_surveys'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_survey_participants_user_id_users')),
    sa.PrimaryKeyConstraint('survey_id', 'user_id', name=op.f('pk_survey_participants'))
    )
    with op.batch_alter_table('survey_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_participants_user_id'), ['user_id'], unique=False)

    op.create_table('survey_responses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('respondent_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('age_band', sa.Enum('under_18', '18_24', '25_34', '35_44', '45_54', '55_64', '65_plus', 'unknown', name='age_band', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('gender', sa.Enum('M', 'F', name='gender', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('municipality_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['municipality_id'], ['territories.id'], name=op.f('fk_survey_responses_municipality_id_territories')),
    sa.ForeignKeyConstraint(['respondent_id'], ['users.id'], name=op.f('fk_survey_responses_respondent_id_users')),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_responses_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_responses')),
    sa.UniqueConstraint('survey_id', 'respondent_id', name=op.f('uq_survey_responses_survey_id_respondent_id'))
    )
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.create_index('ix_survey_responses_survey_id_id', ['survey_id', 'id'], unique=False)

    op.create_table('survey_sections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_sections_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_sections'))
    )
    with op.batch_alter_table('survey_sections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_sections_survey_id'), ['survey_id'], unique=False)

    op.create_table('survey_territories',
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_territories_survey_id_surveys'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['territory_id'], ['territories.id'], name=op.f('fk_survey_territories_territory_id_territories')),
    sa.PrimaryKeyConstraint('survey_id', 'territory_id', name=op.f('pk_survey_territories'))
    )
    op.create_table('survey_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('single', 'multiple', 'text', 'number', 'date', 'scale', 'matrix', 'ranking', name='kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('text', sa.String(length=1000), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('max_choices', sa.Integer(), nullable=True),
    sa.Column('max_length', sa.Integer(), nullable=True),
    sa.Column('min_value', sa.Double(), nullable=True),
    sa.Column('max_value', sa.Double(), nullable=True),
    sa.Column('scale_max', sa.Integer(), nullable=True),
    sa.Column('has_other', sa.Boolean(), nullable=False),
    sa.Column('image_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind <> 'scale' OR scale_max IN (5, 10)", name=op.f('ck_survey_questions_scale_range')),
    sa.CheckConstraint('max_choices IS NULL OR max_choices >= 1', name=op.f('ck_survey_questions_max_choices_positive')),
    sa.CheckConstraint('max_length IS NULL OR (max_length >= 1 AND max_length <= 10000)', name=op.f('ck_survey_questions_max_length_range')),
    sa.CheckConstraint('min_value IS NULL OR max_value IS NULL OR min_value <= max_value', name=op.f('ck_survey_questions_value_order')),
    sa.ForeignKeyConstraint(['image_id'], ['attachments.id'], name=op.f('fk_survey_questions_image_id_attachments')),
    sa.ForeignKeyConstraint(['section_id'], ['survey_sections.id'], name=op.f('fk_survey_questions_section_id_survey_sections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_questions_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_questions'))
    )
    with op.batch_alter_table('survey_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_questions_section_id'), ['section_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_questions_survey_id'), ['survey_id'], unique=False)

    op.create_table('survey_options',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('choice', 'row', name='role', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('is_other', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['survey_questions.id'], name=op.f('fk_survey_options_question_id_survey_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_options'))
    )
    with op.batch_alter_table('survey_options', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_options_question_id'), ['question_id'], unique=False)

    op.create_table('survey_answers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('response_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('item_no', sa.SmallInteger(), nullable=False),
    sa.Column('option_id', sa.Integer(), nullable=True),
    sa.Column('row_id', sa.Integer(), nullable=True),
    sa.Column('number_value', sa.Double(), nullable=True),
    sa.Column('date_value', sa.Date(), nullable=True),
    sa.Column('text_value', sa.Text(), nullable=True),
    sa.Column('text_status', sa.Enum('pending', 'approved', 'rejected', name='text_status', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('rejection_reason', sa.Enum('obscene', 'discrimination', 'third_party_data', 'advertising', 'unreadable', 'unclear', 'several_problems', name='rejection_reason', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('moderated_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("rejection_reason IS NULL OR text_status = 'rejected'", name=op.f('ck_survey_answers_reason_when_rejected')),
    sa.CheckConstraint('(text_value IS NULL) = (text_status IS NULL)', name=op.f('ck_survey_answers_text_has_status')),
    sa.ForeignKeyConstraint(['option_id'], ['survey_options.id'], name=op.f('fk_survey_answers_option_id_survey_options')),
    sa.ForeignKeyConstraint(['question_id'], ['survey_questions.id'], name=op.f('fk_survey_answers_question_id_survey_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['response_id'], ['survey_responses.id'], name=op.f('fk_survey_answers_response_id_survey_responses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['row_id'], ['survey_options.id'], name=op.f('fk_survey_answers_row_id_survey_options')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answers'))
    )
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.create_index('ix_survey_answers_grouping', ['question_id', 'option_id', 'row_id'], unique=False)
        batch_op.create_index('ix_survey_answers_question_text_status', ['question_id', 'text_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_answers_response_id'), ['response_id'], unique=False)

    op.create_table('survey_conditions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('option_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['option_id'], ['survey_options.id'], name=op.f('fk_survey_conditions_option_id_survey_options'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['survey_questions.id'], name=op.f('fk_survey_conditions_question_id_survey_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_conditions')),
    sa.UniqueConstraint('question_id', 'option_id', name=op.f('uq_survey_conditions_question_id_option_id'))
    )
    with op.batch_alter_table('survey_conditions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_conditions_option_id'), ['option_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_conditions_question_id'), ['question_id'], unique=False)

    op.create_table('survey_result_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('responses', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_result_snapshots_survey_id_surveys'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_result_snapshots')),
    sa.UniqueConstraint('survey_id', name=op.f('uq_survey_result_snapshots_survey_id'))
    )


def downgrade():
    op.drop_table('survey_result_snapshots')
    with op.batch_alter_table('survey_conditions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_conditions_question_id'))
        batch_op.drop_index(batch_op.f('ix_survey_conditions_option_id'))

    op.drop_table('survey_conditions')
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_answers_response_id'))
        batch_op.drop_index('ix_survey_answers_question_text_status')
        batch_op.drop_index('ix_survey_answers_grouping')

    op.drop_table('survey_answers')
    with op.batch_alter_table('survey_options', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_options_question_id'))

    op.drop_table('survey_options')
    with op.batch_alter_table('survey_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_questions_survey_id'))
        batch_op.drop_index(batch_op.f('ix_survey_questions_section_id'))

    op.drop_table('survey_questions')
    op.drop_table('survey_territories')
    with op.batch_alter_table('survey_sections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_sections_survey_id'))

    op.drop_table('survey_sections')
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_responses_survey_id_id')

    op.drop_table('survey_responses')
    with op.batch_alter_table('survey_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_participants_user_id'))

    op.drop_table('survey_participants')
    with op.batch_alter_table('survey_exports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_exports_survey_id'))

    op.drop_table('survey_exports')
    with op.batch_alter_table('survey_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_drafts_user_id'))

    op.drop_table('survey_drafts')
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_surveys_organization_id'))

    op.drop_table('surveys')
