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


@pytest.fixture
def single_chain(tmp_path):
    """A database as the release before per-person chains left it: one chain, one head, entries about two people,
    a staff member and nobody in particular (written by today's code, then taken back a revision)."""
    from app import audit
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'audit.db'}"})
    with app.app_context():
        upgrade()
        for i in range(30):
            audit.append("person:1" if i % 3 else "staff:4", f"person:{1 + i % 2}", "space.viewed", "web", n=i)
        audit.append("anonymous", None, "identification.failed", "voice")
        audit.append("system", None, "codes.expired", "job", count=2)
        db.session.commit()
        downgrade(revision="d4b7e2a9c613")
        yield app
        db.session.remove()
        db.engine.dispose()


def test_the_single_audit_chain_is_verified_then_turned_into_chains_per_person(single_chain):
    from app import audit
    conn = db.session.connection()
    assert conn.execute(db.text("SELECT count(*) FROM audit_head")).scalar() == 1
    old_head = conn.execute(db.text("SELECT last_hash FROM audit_head")).scalar()
    db.session.commit()
    upgrade()
    report = audit.check()
    assert report.ok and report.entries == 33  # and the entry that records the migration
    chains = dict(db.session.execute(db.text("SELECT key, length FROM audit_chain")).all())
    assert chains["person:1"] == 15 and chains["person:2"] == 15
    assert sum(chains.values()) == 33 and any(k.startswith("anonymous/") for k in chains)
    note = db.session.execute(db.text("SELECT details FROM audit_entry WHERE action = 'audit.rechained'")).scalar()
    assert note == '{"entries":32,"old_head":"%s"}' % old_head
    audit.seal()
    assert audit.check().ok


def test_a_broken_single_chain_stops_the_migration_and_changes_nothing(single_chain):
    conn = db.session.connection()
    conn.execute(db.text("UPDATE audit_entry SET details = '{}' WHERE id = 7"))
    db.session.commit()
    with pytest.raises(SystemExit):  # Flask-Migrate logs the migration's error and exits 1
        upgrade()
    import importlib.util
    from pathlib import Path
    path = next(Path("migrations/versions").glob("e8f1a3c5b702_*.py"))
    spec = importlib.util.spec_from_file_location("rechain", path)
    rechain = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rechain)
    with pytest.raises(RuntimeError, match=r"audit chain broken at entry 7 \(after 6 intact entries\)"):
        rechain._verify_single_chain(db.session.connection())
    db.session.rollback()
    tables = set(db.inspect(db.engine).get_table_names())
    assert "audit_head" in tables and "audit_chain" not in tables


@pytest.fixture
def before_masked_recipients(tmp_path):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'outbox.db'}"})
    with app.app_context():
        upgrade()
        downgrade(revision="a7c3e9d1f4b6")  # before messages gone kept their recipient masked
        yield app
        db.session.remove()
        db.engine.dispose()


def test_numbers_of_messages_gone_are_masked_and_those_still_waiting_kept(before_masked_recipients):
    rows = [(1, "sms", "+33612345678", "sent"), (2, "email", "jeanne@example.org", "failed"),
            (3, "sms", "+33698765432", "queued"), (4, "letter", None, "printed"), (5, "sms", "+33611112222", "logged")]
    conn = db.session.connection()
    for i, channel, recipient, status in rows:
        conn.execute(db.text(
            "INSERT INTO outbox_message (id, channel, recipient, language, body, reference, sensitive, status, "
            "attempts, next_attempt_at, created_at) VALUES (:i, :c, :r, 'fr', 'Relais: fait.', :ref, 0, :s, 1, "
            "'2026-11-30 10:00:00', '2026-11-30 10:00:00')"), {"i": i, "c": channel, "r": recipient, "s": status,
                                                                "ref": f"{100000000 + i}"})
    db.session.commit()
    upgrade()
    kept = dict(db.session.execute(db.select(OutboxMessage.id, OutboxMessage.recipient)).all())
    assert kept == {1: "+33*******78", 2: "***@example.org", 3: "+33698765432", 4: None, 5: "+33*******22"}
