"""staff of the desk, their sessions, cases and calls put through; an action done at the desk names its member of staff

Revision ID: f367ae37812c
Revises: 3e7a9c1b5d20
Create Date: 2026-12-02 03:19:45.877891

"""
from alembic import op
import sqlalchemy as sa


revision = 'f367ae37812c'
down_revision = '3e7a9c1b5d20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('passphrase_hash', sa.String(length=200), nullable=True),
    sa.Column('totp_sealed', sa.Text(), nullable=True),
    sa.Column('totp_pending', sa.Text(), nullable=True),
    sa.Column('totp_last_step', sa.Integer(), server_default='0', nullable=False),
    sa.Column('enrolment_lookup', sa.String(length=64), nullable=True),
    sa.Column('enrolment_expires_at', sa.DateTime(), nullable=True),
    sa.Column('enrolled_at', sa.DateTime(), nullable=True),
    sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('disabled_at', sa.DateTime(), nullable=True),
    sa.Column('demo', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email'),
    sa.UniqueConstraint('enrolment_lookup')
    )
    op.create_table('desk_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('nir_tail', sa.String(length=3), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('identified_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('desk_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_desk_case_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_desk_case_staff_id'), ['staff_id'], unique=False)

    op.create_table('staff_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('end_reason', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_session_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_session_token_hash'), ['token_hash'], unique=True)

    op.create_table('desk_transfer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_lookup', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('goal', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code_lookup')
    )
    with op.batch_alter_table('action_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staff_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_action_record_staff_id_staff', 'staff', ['staff_id'], ['id'])



def downgrade():
    with op.batch_alter_table('action_record', schema=None) as batch_op:
        batch_op.drop_constraint('fk_action_record_staff_id_staff', type_='foreignkey')
        batch_op.drop_column('staff_id')

    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_session_token_hash'))
        batch_op.drop_index(batch_op.f('ix_staff_session_staff_id'))

    op.drop_table('desk_transfer')
    op.drop_table('staff_session')
    with op.batch_alter_table('desk_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_desk_case_staff_id'))
        batch_op.drop_index(batch_op.f('ix_desk_case_person_id'))

    op.drop_table('desk_case')
    op.drop_table('staff')
