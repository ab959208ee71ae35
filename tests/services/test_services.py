"""Services called directly, as every channel calls them: identity, lockout, new codes, jobs, outbox, audit."""
import logging
import re
from datetime import date, datetime, timedelta

import pytest

from app import audit, clock, outbox
from app.domain.errors import IdentificationFailed, IdentificationLocked, NotAuthorized
from app.models import ActionRecord, HealthSpace, OutboxMessage, ProvisionalCode, db
from app.services import Actor, identity, spaces


def test_every_failure_is_the_same_exception(ctx, enrol):
    h = enrol()
    for args in ((h.nir, "99999999", h.birth_date, h.code), (h.nir, h.vitale_serial, date(1960, 1, 1), h.code),
                 (h.nir, h.vitale_serial, h.birth_date, "AAAAAAAAAAAA"),
                 ("158016912345639", h.vitale_serial, h.birth_date, h.code)):
        with pytest.raises(IdentificationFailed):
            identity.identify(*args, client="c1", channel="web")


def test_unknown_nir_locks_like_a_known_one(ctx, enrol):
    enrol()
    start = datetime(2026, 11, 24, 8)
    for nir in ("240037511200567", "158016912345639"):  # known, then unknown
        for i in range(10):
            clock.freeze(start + timedelta(hours=i))
            with pytest.raises(IdentificationFailed):
                identity.identify(nir, "11111111", date(1950, 1, 1), "AAAAAAAAAAAA", client=f"c-{nir}", channel="web")
        clock.freeze(start + timedelta(hours=10))
        with pytest.raises(IdentificationLocked) as exc:
            identity.identify(nir, "11111111", date(1950, 1, 1), "AAAAAAAAAAAA", client=f"c-{nir}", channel="web")
        assert exc.value.until == start + timedelta(hours=9) + timedelta(hours=24)


def test_one_client_trying_many_nirs_is_limited(ctx, app, enrol):
    h = enrol()
    app.config["IP_FAILURES_PER_HOUR"] = 3
    try:
        from stdnum.fr import nir as stdnum_nir
        for i in range(3):
            body = f"1500175{i:06d}"
            with pytest.raises(IdentificationFailed):
                identity.identify(body + stdnum_nir.calc_check_digits(body), "11111111", date(1950, 1, 1),
                                  "AAAAAAAAAAAA", client="203.0.113.9", channel="web")
        with pytest.raises(IdentificationLocked):
            identity.identify(h.nir, h.vitale_serial, h.birth_date, h.code, client="203.0.113.9", channel="web")
        assert identity.identify(h.nir, h.vitale_serial, h.birth_date, h.code, client="198.51.100.1",
                                 channel="web") == h.person_id
    finally:
        app.config["IP_FAILURES_PER_HOUR"] = 50


def test_expired_letter_code_fails(ctx, enrol):
    h = enrol(days_ago=43, renew=False)
    with pytest.raises(IdentificationFailed):
        identity.identify(h.nir, h.vitale_serial, h.birth_date, h.code, client="c", channel="web")


def test_keypad_form_only_on_the_phone(ctx, enrol):
    from app.domain.identifiers import keypad_form
    h = enrol()
    with pytest.raises(IdentificationFailed):
        identity.identify(h.nir, h.vitale_serial, h.birth_date, keypad_form(h.code), client="c", channel="web")
    assert identity.identify(h.nir, h.vitale_serial, h.birth_date, keypad_form(h.code), client="c",
                             channel="voice", keypad=True) == h.person_id


@pytest.mark.parametrize("phone,email,channel", [("+33612345678", None, "sms"), (None, "a@example.org", "email"),
                                                 (None, None, "letter")])
def test_new_code_goes_to_the_best_channel(app, enrol, phone, email, channel):
    h = enrol(phone=phone)
    with app.app_context():
        if email:
            person = identity.find_person_by_nir(h.nir)
            person.email = email
            db.session.commit()
        assert identity.request_new_code(h.nir, h.vitale_serial, h.birth_date, client="c", channel="web") is None
        msg = db.session.scalars(db.select(OutboxMessage)).one()
        assert (msg.channel, msg.sensitive) == (channel, True)
        assert db.session.scalar(db.select(db.func.count(ProvisionalCode.id)).where(
            ProvisionalCode.voided_at.is_(None))) == 1


def test_idempotent_actions_and_authorization(ctx, enrol):
    h, other = enrol(days_ago=60), enrol(days_ago=60)
    actor = Actor(h.person_id, "web")
    first = spaces.close(actor, h.person_id, delete_data=True, idempotency_key="k1").reference
    again = spaces.close(actor, h.person_id, delete_data=True, idempotency_key="k1").reference
    assert first == again and re.fullmatch(r"\d{9}", first)
    assert db.session.scalar(db.select(db.func.count(ActionRecord.id))) == 1
    with pytest.raises(NotAuthorized):
        spaces.reopen(actor, other.person_id)


def test_jobs_purge_a_requested_deletion_and_tell_the_holder(app, enrol):
    h = enrol(days_ago=60)
    with app.app_context():
        spaces.close(Actor(h.person_id, "web"), h.person_id, delete_data=True)
        due = db.session.get(HealthSpace, h.person_id).deletion_due_on
        assert spaces.run_jobs(due - timedelta(days=1))["purged"] == 0
        counts = spaces.run_jobs(due)
        assert counts["purged"] == 1
        assert db.session.get(HealthSpace, h.person_id).state == "purged"
        msg = db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        assert "supprimées, comme demandé" in msg.body
        assert spaces.run_jobs(due)["purged"] == 0


def test_archive_purged_after_ten_years(app, enrol):
    h = enrol(days_ago=60)
    with app.app_context():
        spaces.close(Actor(h.person_id, "web"), h.person_id, delete_data=False)
        until = db.session.get(HealthSpace, h.person_id).archive_until
        assert until.year == clock.today().year + 10
        before = db.session.scalar(db.select(db.func.count(OutboxMessage.id)))  # the closure's receipt
        assert spaces.run_jobs(until)["purged"] == 1
        assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == before  # no "deleted as asked"


def test_outbox_without_twilio_logs_but_never_a_code_or_a_number(app, enrol, caplog):
    h = enrol()
    with app.app_context():
        identity.request_new_code(h.nir, h.vitale_serial, h.birth_date, client="c", channel="web")
        body = outbox.text_of(db.session.scalars(db.select(OutboxMessage)).one())
        code = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", body).group(0)
        with caplog.at_level(logging.INFO, logger="relais.outbox"):
            assert outbox.send_due() == 1
        assert code not in caplog.text and "+33612345678" not in caplog.text and h.nir not in caplog.text
        assert db.session.scalars(db.select(OutboxMessage)).one().status == "logged"
        assert outbox.send_due() == 0  # sent once


def test_audit_chain_after_a_run_of_actions(ctx, enrol):
    h = enrol(days_ago=60)
    actor = Actor(h.person_id, "web")
    spaces.set_emergency_access(actor, h.person_id, "samu", False)
    spaces.close(actor, h.person_id, delete_data=False)
    spaces.reopen(actor, h.person_id)
    ok, count, broken = audit.verify()
    assert ok and count >= 4 and broken is None


def test_web_and_phone_actions_send_their_receipt_by_sms(app, enrol):
    h = enrol(days_ago=60)
    with app.app_context():
        record = spaces.set_emergency_access(Actor(h.person_id, "web"), h.person_id, "samu", False)
        msg = db.session.scalars(db.select(OutboxMessage)).one()
        assert msg.channel == "sms" and msg.reference == record.reference
        assert f"{record.reference[:3]} {record.reference[3:6]} {record.reference[6:]}" in msg.body


def test_deadline_reminders_14_and_3_days_before_once_each(app, enrol):
    h = enrol(days_ago=10)  # the window ends in 32 days
    with app.app_context():
        end = db.session.get(HealthSpace, h.person_id).window_ends_on
        assert spaces.run_jobs(end - timedelta(days=15))["reminders"] == 0
        assert spaces.run_jobs(end - timedelta(days=14))["reminders"] == 1
        assert spaces.run_jobs(end - timedelta(days=13))["reminders"] == 0
        assert spaces.run_jobs(end - timedelta(days=3))["reminders"] == 1
        assert spaces.run_jobs(end - timedelta(days=2))["reminders"] == 0
        bodies = [m.body for m in db.session.scalars(db.select(OutboxMessage))]
        assert len(bodies) == 2 and all(end.strftime("%d/%m/%Y") in b and len(b) <= 160 for b in bodies)


def test_no_reminder_once_opposed(app, enrol):
    h = enrol(days_ago=30)
    with app.app_context():
        spaces.oppose(Actor(h.person_id, "web"), h.person_id)
        end = db.session.get(HealthSpace, h.person_id).window_ends_on
        assert spaces.run_jobs(end - timedelta(days=3))["reminders"] == 0
