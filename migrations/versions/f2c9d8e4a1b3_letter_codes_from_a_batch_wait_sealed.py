"""letter codes made by the mailing batch import name their batch and line, and wait sealed until written out

The hashes of codes and Vitale serials change form without a migration: each stored value names its own form
(`$argon2id$...` before, `hmac-sha256$<key id>$...` now), and an argon2 row is rewritten when it is next met right.

Revision ID: f2c9d8e4a1b3
Revises: e8f1a3c5b702
Create Date: 2026-12-02 08:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'f2c9d8e4a1b3'
down_revision = 'e8f1a3c5b702'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('provisional_code', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('batch_line', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sealed_code', sa.Text(), nullable=True))
    op.create_index('ix_provisional_code_pending', 'provisional_code', ['batch'], unique=False,
                    sqlite_where=sa.text('sealed_code IS NOT NULL'),
                    postgresql_where=sa.text('sealed_code IS NOT NULL'))


def downgrade():
    op.drop_index('ix_provisional_code_pending', table_name='provisional_code')
    with op.batch_alter_table('provisional_code', schema=None) as batch_op:
        batch_op.drop_column('sealed_code')
        batch_op.drop_column('batch_line')
        batch_op.drop_column('batch')
