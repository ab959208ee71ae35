"""Migrations that change data: run on a database of the revision before, with its rows, as in production."""
import pytest
from flask_migrate import downgrade, upgrade

from app import create_app
from app.models import InboundMessage, OutboxMessage, db
from app.outbox import text_of
from tests.conftest import TEST_CONFIG


@pytest.fixture
def old_database(tmp_path):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}"})
    with app.app_context():
        upgrade()
        downgrade(revision="2d8033c23d10")  # before codes were masked in messages
        yield app
        db.session.remove()
        db.engine.dispose()


def test_codes_kept_in_clear_by_an_older_release_are_masked_and_waiting_ones_sealed(old_database):
    conn = db.session.connection()
    conn.execute(db.text(
        "INSERT INTO outbox_message (id, channel, language, body, reference, sensitive, status, attempts, "
        "next_attempt_at, created_at) VALUES "
        "(1, 'sms', 'fr', 'Relais: votre code de connexion est 098846. Ref 123 456 789', '123456789', 1, 'sent', 1, "
        " '2026-11-30 10:00:00', '2026-11-30 10:00:00'),"
        "(2, 'letter', 'en', 'Relais: your new provisional code is 7RRM-6HMC-8KCF, valid until 10/01/2027.', "
        " '223456789', 1, 'queued', 0, '2026-11-30 10:00:00', '2026-11-30 10:00:00'),"
        "(3, 'sms', 'fr', 'Relais: fait. Ref 323 456 789', '323456789', 0, 'sent', 1, '2026-11-30 10:00:00', "
        " '2026-11-30 10:00:00')"))
    conn.execute(db.text("INSERT INTO inbound_message (message_sid, received_at, reply) VALUES "
                         "('SM1', '2026-11-30 10:00:00', '<Response><Message>Relais: code 745186 pour fermer'"
                         " || '</Message></Response>')"))
    db.session.commit()
    upgrade()
    sent, letter, receipt = db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert "098846" not in sent.body and "******" in sent.body and sent.sealed_body is None
    assert "7RRM-6HMC-8KCF" not in letter.body and "7RRM-6HMC-8KCF" in text_of(letter)  # still to be printed
    assert receipt.body == "Relais: fait. Ref 323 456 789"  # a reference is not a code
    assert "745186" not in db.session.get(InboundMessage, "SM1").reply
