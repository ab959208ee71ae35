"""reported accesses handled at the desk: their status, who handles them, their notes, when closed

Revision ID: c5e2a7d91f38
Revises: b81d4e6f2a90
Create Date: 2026-12-02 04:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c5e2a7d91f38'
down_revision = 'b81d4e6f2a90'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('access_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=12), server_default='new', nullable=False))
        batch_op.add_column(sa.Column('staff_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('notes', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_access_report_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_report_staff_id'), ['staff_id'], unique=False)
        batch_op.create_foreign_key('fk_access_report_staff_id_staff', 'staff', ['staff_id'], ['id'])


def downgrade():
    with op.batch_alter_table('access_report', schema=None) as batch_op:
        batch_op.drop_constraint('fk_access_report_staff_id_staff', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_access_report_staff_id'))
        batch_op.drop_index(batch_op.f('ix_access_report_status'))
        for column in ('closed_at', 'notes', 'staff_id', 'status'):
            batch_op.drop_column(column)
