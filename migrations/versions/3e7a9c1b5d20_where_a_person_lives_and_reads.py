"""where a person lives and reads: postal code and time zone, SMS blocked at Twilio, discreet notices

The mailing batch's optional postal_code gives the person's time zone (the overseas departments); a number
that opted out at Twilio (STOP…) or that Twilio refuses gets letters instead; a holder may choose notices
that name no profession or organisation.

Revision ID: 3e7a9c1b5d20
Revises: 20c2f79024d0
Create Date: 2026-12-02 01:15:00

"""
from alembic import op
import sqlalchemy as sa


revision = '3e7a9c1b5d20'
down_revision = '20c2f79024d0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('person') as batch:
        batch.add_column(sa.Column('postal_code', sa.String(length=5), nullable=True))
        batch.add_column(sa.Column('time_zone', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('sms_blocked_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('discreet_notices', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('person') as batch:
        batch.drop_column('discreet_notices')
        batch.drop_column('sms_blocked_at')
        batch.drop_column('time_zone')
        batch.drop_column('postal_code')
