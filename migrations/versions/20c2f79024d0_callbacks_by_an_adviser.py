"""callbacks by an adviser, the caller's number sealed until the call is done

An SMS to a number that is nobody's registered phone (the callback's confirmation) keeps it sealed too.

Revision ID: 20c2f79024d0
Revises: 7c1e5d0f3a21
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '20c2f79024d0'
down_revision = '7c1e5d0f3a21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('callback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('phone_lookup', sa.String(length=64), nullable=False),
    sa.Column('phone_sealed', sa.Text(), nullable=True),
    sa.Column('slot_day', sa.Date(), nullable=False),
    sa.Column('slot', sa.String(length=2), nullable=False),
    sa.Column('goal', sa.String(length=20), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('callback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callback_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_callback_phone_lookup'), ['phone_lookup'], unique=False)
        batch_op.create_index(batch_op.f('ix_callback_status'), ['status'], unique=False)
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed_recipient', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('sealed_recipient')
    with op.batch_alter_table('callback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callback_status'))
        batch_op.drop_index(batch_op.f('ix_callback_phone_lookup'))
        batch_op.drop_index(batch_op.f('ix_callback_person_id'))
    op.drop_table('callback')
