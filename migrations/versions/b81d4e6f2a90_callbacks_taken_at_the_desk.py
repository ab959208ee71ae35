"""callbacks taken by an adviser at the desk: who took it, and when (its number is shown to them only)

Revision ID: b81d4e6f2a90
Revises: f367ae37812c
Create Date: 2026-12-02 04:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b81d4e6f2a90'
down_revision = 'f367ae37812c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('callback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staff_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('taken_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_callback_staff_id'), ['staff_id'], unique=False)
        batch_op.create_foreign_key('fk_callback_staff_id_staff', 'staff', ['staff_id'], ['id'])


def downgrade():
    with op.batch_alter_table('callback', schema=None) as batch_op:
        batch_op.drop_constraint('fk_callback_staff_id_staff', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_callback_staff_id'))
        batch_op.drop_column('taken_at')
        batch_op.drop_column('staff_id')
