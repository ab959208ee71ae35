"""outbox claims fenced by a token: a worker whose lease ran out cannot record a message another worker took

The partial index holds only the messages still waiting, in id order: the workers' claim
(`... ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED`) reads it instead of the whole table.

Revision ID: d4b7e2a9c613
Revises: c5e2a7d91f38
Create Date: 2026-12-02 07:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd4b7e2a9c613'
down_revision = 'c5e2a7d91f38'
branch_labels = None
depends_on = None

DUE = "status IN ('queued', 'sending') AND channel <> 'letter'"


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_token', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(), nullable=True))
    op.create_index('ix_outbox_message_due', 'outbox_message', ['id'], sqlite_where=sa.text(DUE),
                    postgresql_where=sa.text(DUE))


def downgrade():
    op.drop_index('ix_outbox_message_due', table_name='outbox_message')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('claim_token')
