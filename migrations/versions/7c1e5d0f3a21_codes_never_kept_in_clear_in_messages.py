"""codes never kept in clear in messages: masked bodies and replies, the whole text sealed while it waits

Revision ID: 7c1e5d0f3a21
Revises: 2d8033c23d10
Create Date: 2026-12-01 21:40:00

"""
import re

from alembic import op
import sqlalchemy as sa


revision = '7c1e5d0f3a21'
down_revision = '2d8033c23d10'
branch_labels = None
depends_on = None

SIX_DIGITS = re.compile(r"(?<!\d)\d{6}(?!\d)")
LETTER_CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}\b")


def _masked(text: str) -> str:
    return LETTER_CODE.sub("****-****-****", SIX_DIGITS.sub("******", text or ""))


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed_body', sa.Text(), nullable=True))
    with op.batch_alter_table('inbound_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed_reply', sa.Text(), nullable=True))

    bind = op.get_bind()
    outbox = sa.table('outbox_message', sa.column('id', sa.Integer), sa.column('body', sa.Text),
                      sa.column('sealed_body', sa.Text), sa.column('sensitive', sa.Boolean),
                      sa.column('status', sa.String))
    inbound = sa.table('inbound_message', sa.column('message_sid', sa.String), sa.column('reply', sa.Text))
    try:  # messages still waiting keep their whole text, encrypted with the key outside the database
        from app.sealed import seal
        seal("probe")
    except Exception:  # no application here (a bare alembic run): waiting messages are masked too
        seal = None
    for row in bind.execute(sa.select(outbox.c.id, outbox.c.body, outbox.c.status)
                            .where(outbox.c.sensitive.is_(True))).all():
        waiting = row.status in ('queued', 'sending')
        bind.execute(outbox.update().where(outbox.c.id == row.id).values(
            body=_masked(row.body), sealed_body=seal(row.body) if waiting and seal else None))
    for row in bind.execute(sa.select(inbound.c.message_sid, inbound.c.reply)).all():
        if _masked(row.reply) != row.reply:
            bind.execute(inbound.update().where(inbound.c.message_sid == row.message_sid)
                         .values(reply=_masked(row.reply)))


def downgrade():
    with op.batch_alter_table('inbound_message', schema=None) as batch_op:
        batch_op.drop_column('sealed_reply')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('sealed_body')
