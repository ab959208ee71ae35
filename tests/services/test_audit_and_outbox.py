"""The hash-chained audit log, and the outbox when no carrier is configured (the offline demo)."""
import logging
import re
from datetime import datetime, timedelta

import pytest

from app import audit, clock, outbox
from app.models import AuditChain, AuditEntry, OutboxMessage, db
from app.services import Actor, access, identity, spaces

NOW = datetime(2026, 11, 24, 9, 0)
CODE_IN_TEXT = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}\b")


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(NOW)


@pytest.fixture
def busy_day(ctx, enrol):
    """A run of actions of every kind, as a day of Relais would have."""
    a, b = enrol(days_ago=10), enrol(days_ago=50)
    identity.identify(a.nir, a.vitale_serial, a.birth_date, a.code, client="c", channel="web")
    spaces.oppose(Actor(a.person_id, "web"), a.person_id)
    actor = Actor(b.person_id, "voice")
    spaces.set_emergency_access(actor, b.person_id, "samu", False)
    event, _, _ = access.record_access(access.AccessAttempt(
        nir=b.nir, occurred_at=NOW - timedelta(hours=1), professional_name="Marc Roux", profession="Pharmacien",
        organisation="Pharmacie de la Gare", mode="normal", section="Ordonnances"), "api")
    access.report_access(actor, b.person_id, event.id)
    spaces.close(actor, b.person_id, delete_data=True)
    spaces.run_jobs(clock.today())
    return a, b


def entries():
    return db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)).all()


# --- audit -----------------------------------------------------------------------------------------

def test_the_chain_is_intact_after_a_run_of_actions(busy_day):
    ok, count, broken = audit.verify()
    assert (ok, broken) == (True, None)
    assert count == len(entries()) >= 8
    actions = [e.action for e in entries()]
    for action in ("person.enrolled", "identification.succeeded", "space.opposed", "emergency.samu.off",
                   "access.recorded", "access.reported", "space.closed"):
        assert action in actions


def test_each_entry_links_to_the_one_before_in_its_persons_chain(busy_day):
    a, b = busy_day
    chains = {}
    for row in entries():
        chains.setdefault(row.chain, []).append(row)
    assert {f"person:{a.person_id}", f"person:{b.person_id}"} <= set(chains)
    for key, rows in chains.items():
        assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
        assert rows[0].prev_hash == audit.GENESIS
        for before, after in zip(rows, rows[1:]):
            assert after.prev_hash == before.hash
        head = db.session.get(AuditChain, key)
        assert (head.length, head.last_hash) == (len(rows), rows[-1].hash)
    for row in chains[f"person:{b.person_id}"]:
        assert row.subject == f"person:{b.person_id}"


def test_tampering_with_the_details_of_one_entry_is_detected(busy_day):
    victim = entries()[3]
    db.session.execute(db.text("UPDATE audit_entry SET details = :d WHERE id = :id"),
                       {"d": '{"forged":true}', "id": victim.id})
    db.session.commit()
    db.session.expire_all()
    ok, count, broken = audit.verify()
    assert (ok, broken) == (False, victim.id)


@pytest.mark.parametrize("column,value", [("actor", "person:999"), ("subject", "person:999"),
                                          ("action", "space.reopened"), ("channel", "sms")])
def test_tampering_with_any_column_is_detected(busy_day, column, value):
    victim = entries()[-2]
    db.session.execute(db.text(f"UPDATE audit_entry SET {column} = :v WHERE id = :id"), {"v": value, "id": victim.id})
    db.session.commit()
    db.session.expire_all()
    assert audit.verify()[0] is False


def test_deleting_an_entry_is_detected(busy_day):
    middle = entries()[2]
    db.session.execute(db.text("DELETE FROM audit_entry WHERE id = :id"), {"id": middle.id})
    db.session.commit()
    db.session.expire_all()
    assert audit.verify()[0] is False


def test_dropping_the_latest_entry_is_detected(busy_day):
    last = entries()[-1]
    db.session.execute(db.text("DELETE FROM audit_entry WHERE id = :id"), {"id": last.id})
    db.session.commit()
    db.session.expire_all()
    assert audit.verify()[0] is False


def test_the_log_carries_utc_times_and_pseudonyms_only(busy_day):
    a, b = busy_day
    clear = [a.nir, b.nir, a.vitale_serial, b.vitale_serial, a.code, b.code, "+33612345678", "0612345678",
             "Jeanne", "Martin"]
    for e in entries():
        assert e.at == NOW
        text = " ".join(str(x) for x in (e.actor, e.subject, e.action, e.channel, e.details))
        for value in clear:
            assert value not in text, (value, e.action)
        assert re.fullmatch(r"person:\d+|system|operator|anonymous|health-record-system", e.actor), e.actor


# --- outbox without a carrier ----------------------------------------------------------------------------

@pytest.fixture
def caplog(caplog, monkeypatch):
    """The outbox's log as captured. Alembic's fileConfig (migrations/env.py), run in this process by the
    session fixture, disables every logger that existed before it: switch this one back on, or nothing is
    captured and every "not in the log" check below would pass for nothing."""
    monkeypatch.setattr(outbox.log, "disabled", False)
    caplog.set_level(logging.INFO, logger="relais.outbox")
    return caplog


def test_without_twilio_credentials_messages_are_logged_never_with_a_code_or_the_number(ctx, enrol, app, caplog):
    assert not app.config["TWILIO_ACCOUNT_SID"]
    h = enrol(days_ago=10, phone="+33612345678")
    identity.request_new_code(h.nir, h.vitale_serial, h.birth_date, client="c", channel="web")  # sensitive
    spaces.oppose(Actor(h.person_id, "web"), h.person_id)                                        # a receipt
    [secret_msg, receipt] = db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    code = CODE_IN_TEXT.search(outbox.text_of(secret_msg)).group(0)
    caplog.set_level(logging.INFO, logger="relais.outbox")
    assert outbox.send_due() == 2
    db.session.expire_all()
    for msg in (secret_msg, receipt):
        msg = db.session.get(OutboxMessage, msg.id)
        assert (msg.status, msg.attempts, msg.provider_id) == ("logged", 1, None)
        assert msg.sent_at == NOW
    log = caplog.text
    assert secret_msg.reference in log and receipt.reference in log
    assert code not in log and code.replace("-", "") not in log
    assert "+33612345678" not in log and "0612345678" not in log and "612345678" not in log
    assert "+33" in log and "78" in log  # masked, still recognisable by the operator
    assert receipt.body.split(" Ref ")[0][:30] in log  # a message without a secret is logged as it is


def test_a_sensitive_email_is_logged_without_its_body_and_address(ctx, app, caplog):
    from datetime import date
    identity.enrol(identity.Enrolment(nir="158016912345639", vitale_serial="80555666777", family_name="Leroy",
                                      given_name="Paul", birth_date=date(1958, 1, 30), phone=None,
                                      email="paul.leroy@example.org", language="en",
                                      letter_sent_on=clock.today()))
    identity.request_new_code("158016912345639", "80555666777", date(1958, 1, 30), client="c", channel="web")
    [msg] = db.session.scalars(db.select(OutboxMessage)).all()
    code = CODE_IN_TEXT.search(outbox.text_of(msg)).group(0)
    caplog.set_level(logging.INFO, logger="relais.outbox")
    outbox.send_due()
    assert db.session.get(OutboxMessage, msg.id).status == "logged"
    assert code not in caplog.text
    assert "paul.leroy" not in caplog.text and "@example.org" in caplog.text


def test_letters_wait_for_printing_and_each_message_goes_once(ctx, enrol, caplog):
    h = enrol(days_ago=50, phone=None)
    spaces.close(Actor(h.person_id, "web"), h.person_id, delete_data=False)
    access.record_access(access.AccessAttempt(
        nir=h.nir, occurred_at=NOW, professional_name="Marc Roux", profession="Pharmacien",
        organisation="Pharmacie", mode="normal", section="Ordonnances"), "api")
    [letter] = db.session.scalars(db.select(OutboxMessage)).all()
    assert letter.channel == "letter"
    caplog.set_level(logging.INFO, logger="relais.outbox")
    assert outbox.send_due() == 0
    assert db.session.get(OutboxMessage, letter.id).status == "queued"
    other = enrol(days_ago=50)
    spaces.set_emergency_access(Actor(other.person_id, "web"), other.person_id, "samu", False)  # SMS receipt
    assert outbox.send_due() == 1
    assert outbox.send_due() == 0  # nothing twice
    assert caplog.text.count("outbox sms") == 1


def test_a_message_left_sending_by_a_dead_worker_is_taken_again_after_its_lease(ctx, enrol, caplog):
    from datetime import timedelta

    from app import clock
    h = enrol(days_ago=50)
    spaces.set_emergency_access(Actor(h.person_id, "web"), h.person_id, "samu", False)  # an SMS receipt
    msg = db.session.scalars(db.select(OutboxMessage)).one()
    [claim] = outbox._claim()  # a worker claims it, then dies before sending
    assert claim.id == msg.id and not claim.in_doubt
    assert outbox._claim() == [] and outbox.send_due() == 0  # others leave it during the lease
    clock.freeze(clock.now() + outbox.LEASE + timedelta(seconds=1))
    caplog.set_level(logging.INFO, logger="relais.outbox")
    assert outbox.send_due() == 1  # nothing lost
    assert db.session.get(OutboxMessage, msg.id).status == "logged" and caplog.text.count("outbox sms") == 1


def test_an_sms_queued_before_the_number_opted_out_goes_by_letter_instead(ctx, enrol, caplog):
    h = enrol(days_ago=50)
    spaces.set_emergency_access(Actor(h.person_id, "web"), h.person_id, "samu", False)  # an SMS receipt, queued
    assert spaces.record_sms_opt_out(h.phone) == [h.person_id]
    assert spaces.record_sms_opt_out(h.phone) == []  # once
    assert outbox.send_due() == 0
    sms, letter = db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert (sms.status, sms.last_error, letter.channel, letter.reference) == ("failed", "sms_blocked", "letter",
                                                                              sms.reference)
    assert outbox.send_due() == 0 and db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 2
    assert "+33612345678" not in caplog.text and [e.action for e in entries()][-1] == "outbox.letter_instead"
    assert [m.reference for m, letters in outbox.failed() if letters == [letter]] == [sms.reference]
