"""outbox messages found by their reference: an index, so a new reference is checked free without reading them all

Every access notice takes a reference checked free against the receipts, the callbacks and the outbox; the outbox
had no index on it, so the check read the whole table (millions of rows nationally) in the decision API's path.

Revision ID: a7c3e9d1f4b6
Revises: f2c9d8e4a1b3
Create Date: 2026-12-02 13:40:00

"""
from alembic import op


revision = 'a7c3e9d1f4b6'
down_revision = 'f2c9d8e4a1b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_outbox_message_reference', 'outbox_message', ['reference'], unique=False)


def downgrade():
    op.drop_index('ix_outbox_message_reference', table_name='outbox_message')
