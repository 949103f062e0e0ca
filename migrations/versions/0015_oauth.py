"""OAuth 2.0 for residents' mobile apps: registered apps, codes, app sessions, hashed tokens.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30

"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('oauth_clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('redirect_uris', sa.JSON(), nullable=False),
    sa.Column('scope', sa.String(length=200), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_clients')),
    sa.UniqueConstraint('client_id', name=op.f('uq_oauth_clients_client_id'))
    )
    op.create_table('oauth_app_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=200), nullable=False),
    sa.Column('device_name', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_reason', sa.Enum('resident', 'client', 'refresh_reuse', 'code_reuse', name='revoked_reason', native_enum=False, create_constraint=True), nullable=True),
    sa.CheckConstraint('(revoked_at IS NULL) = (revoked_reason IS NULL)', name=op.f('ck_oauth_app_sessions_revoked_with_reason')),
    sa.ForeignKeyConstraint(['client_id'], ['oauth_clients.id'], name=op.f('fk_oauth_app_sessions_client_id_oauth_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oauth_app_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_app_sessions'))
    )
    with op.batch_alter_table('oauth_app_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_app_sessions_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_app_sessions_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_app_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('oauth_authorization_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('redirect_uri', sa.String(length=500), nullable=False),
    sa.Column('scope', sa.String(length=200), nullable=False),
    sa.Column('code_challenge', sa.String(length=128), nullable=False),
    sa.Column('code_challenge_method', sa.String(length=10), nullable=False),
    sa.Column('device_name', sa.String(length=100), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('app_session_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("code_challenge_method = 'S256'", name=op.f('ck_oauth_authorization_codes_pkce_s256')),
    sa.CheckConstraint('expires_at > issued_at', name=op.f('ck_oauth_authorization_codes_expires_after_issue')),
    sa.ForeignKeyConstraint(['app_session_id'], ['oauth_app_sessions.id'], name=op.f('fk_oauth_authorization_codes_app_session_id_oauth_app_sessions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['client_id'], ['oauth_clients.id'], name=op.f('fk_oauth_authorization_codes_client_id_oauth_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oauth_authorization_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_authorization_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_oauth_authorization_codes_code_hash'))
    )
    with op.batch_alter_table('oauth_authorization_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_authorization_codes_app_session_id'), ['app_session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_authorization_codes_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_authorization_codes_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_authorization_codes_user_id'), ['user_id'], unique=False)

    op.create_table('oauth_tokens',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('app_session_id', sa.Integer(), nullable=False),
    sa.Column('access_token_hash', sa.String(length=64), nullable=False),
    sa.Column('refresh_token_hash', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=200), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('access_expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('refresh_expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('spent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('access_expires_at > issued_at', name=op.f('ck_oauth_tokens_access_expires_after_issue')),
    sa.CheckConstraint('refresh_expires_at >= access_expires_at', name=op.f('ck_oauth_tokens_refresh_outlives_access')),
    sa.ForeignKeyConstraint(['app_session_id'], ['oauth_app_sessions.id'], name=op.f('fk_oauth_tokens_app_session_id_oauth_app_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_tokens')),
    sa.UniqueConstraint('access_token_hash', name=op.f('uq_oauth_tokens_access_token_hash')),
    sa.UniqueConstraint('refresh_token_hash', name=op.f('uq_oauth_tokens_refresh_token_hash'))
    )
    with op.batch_alter_table('oauth_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_tokens_app_session_id'), ['app_session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_tokens_refresh_expires_at'), ['refresh_expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('oauth_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_tokens_refresh_expires_at'))
        batch_op.drop_index(batch_op.f('ix_oauth_tokens_app_session_id'))

    op.drop_table('oauth_tokens')
    with op.batch_alter_table('oauth_authorization_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_authorization_codes_user_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_authorization_codes_expires_at'))
        batch_op.drop_index(batch_op.f('ix_oauth_authorization_codes_client_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_authorization_codes_app_session_id'))

    op.drop_table('oauth_authorization_codes')
    with op.batch_alter_table('oauth_app_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_app_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_app_sessions_expires_at'))
        batch_op.drop_index(batch_op.f('ix_oauth_app_sessions_client_id'))

    op.drop_table('oauth_app_sessions')
    op.drop_table('oauth_clients')
