"""Callbacks: a caller books an adviser's call in an offered half-day; the number is sealed, and forgotten once done.

Each transfer to an adviser is audited too. Nothing here keeps a number in clear: not the callback, not the audit
log, not the outbox once the SMS has gone."""
import json
import logging
import re
import threading
from datetime import date, datetime

import pytest

from app import audit, clock, outbox
from app.domain.errors import CallbackRefused, InvalidTransition, NotFound
from app.domain.reasons import Reason
from app.models import AuditEntry, Callback, OutboxMessage, db
from app.sealed import unseal
from app.services import Actor, callbacks, references
from app.services.crypto import lookup

NOW = datetime(2026, 11, 30, 9, 0)   # Monday 10:00 in Paris: the morning and the afternoon are offered
MONDAY = date(2026, 11, 30)
CALLER = Actor(None, "voice")        # a caller who has not identified
MOBILE = "+33612345678"
FORMS = ("612345678", "6 12 34 56 78", "6.12.34.56.78")  # the number as it may be written, +33 or 0 before


@pytest.fixture(autouse=True)
def frozen():
    clock.freeze(NOW)


def book(phone="06 12 34 56 78", day=MONDAY, slot="am", *, actor=CALLER, goal="history", language="fr", key="k1"):
    return callbacks.request(actor, phone, day, slot, goal=goal, language=language, key=key)


def rows(model):
    db.session.expire_all()
    return db.session.scalars(db.select(model).order_by(model.id)).all()


def audited(action):
    return [e for e in rows(AuditEntry) if e.action == action]


def numbers_in(*models) -> list[str]:
    """Every column of every row of these tables where the number shows in clear."""
    found = []
    for model in models:
        for row in rows(model):
            for column in model.__table__.columns:
                value = str(getattr(row, column.key) or "")
                if any(form in value for form in FORMS):
                    found.append(f"{model.__tablename__}.{column.key}={value[:40]}")
    return found


# --- booking ------------------------------------------------------------------------------------------

def test_a_booking_keeps_the_number_sealed_and_the_sms_says_when(ctx, twilio):
    receipt = book(language="en")
    assert re.fullmatch(r"\d{9}", receipt.reference)
    assert (receipt.action, receipt.subject_id, receipt.channel) == ("callback.requested", None, "voice")
    assert receipt.details == {"slot_day": "2026-11-30", "slot": "am", "goal": "history", "language": "en",
                               "sms": True}
    [row] = rows(Callback)
    assert (row.reference, row.person_id, row.slot_day, row.slot, row.goal, row.language, row.channel,
            row.status, row.created_at) == (receipt.reference, None, MONDAY, "am", "history", "en", "voice",
                                            "pending", NOW)
    assert unseal(row.phone_sealed) == MOBILE and row.phone_lookup == lookup("phone", MOBILE)
    [entry] = audited("callback.requested")
    details = json.loads(entry.details)
    assert (entry.actor, entry.subject, entry.channel) == ("anonymous", None, "voice")
    assert details["phone"] == outbox.mask(MOBILE) == "+33*******78" and details["reference"] == receipt.reference

    [msg] = rows(OutboxMessage)
    assert (msg.channel, msg.person_id, msg.language, msg.reference) == ("sms", None, "en", receipt.reference)
    assert numbers_in(Callback, AuditEntry, OutboxMessage) == []  # sealed while it waits, too
    assert outbox.send_due() == 1
    [sent] = twilio.sent
    assert sent["To"] == MOBILE
    ref = f"{receipt.reference[:3]} {receipt.reference[3:6]} {receipt.reference[6:]}"
    assert sent["Body"] == f"Relais: an adviser will call you back on Monday 30 November, in the morning. " \
                           f"Reference {ref}."
    assert "http" not in sent["Body"] and "code" not in sent["Body"].lower() and len(sent["Body"]) <= 160
    [msg] = rows(OutboxMessage)
    assert msg.status == "sent" and msg.recipient == "+33*******78" and msg.sealed_recipient is None
    assert numbers_in(Callback, AuditEntry, OutboxMessage) == []
    assert audit.verify()[0]


def test_offline_the_log_has_the_number_masked(ctx, caplog):
    book()
    with caplog.at_level(logging.INFO, logger="relais.outbox"):
        assert outbox.send_due() == 1
    assert "+33*******78" in caplog.text and not any(form in caplog.text for form in FORMS)
    assert rows(OutboxMessage)[0].status == "logged" and numbers_in(OutboxMessage) == []


def test_a_number_that_cannot_be_unsealed_is_never_sent_to(ctx, twilio):
    book()
    msg = rows(OutboxMessage)[0]
    msg.sealed_recipient = "sealed with another key"
    db.session.commit()
    assert outbox.send_due() == 0 and twilio.sent == []
    msg = rows(OutboxMessage)[0]
    assert (msg.status, msg.last_error, msg.attempts) == ("queued", "ValueError", 1)


def test_the_sms_is_in_the_callers_language(ctx):
    book(slot="pm", language="fr")
    [msg] = rows(OutboxMessage)
    assert "lundi 30 novembre" in outbox.text_of(msg) and msg.language == "fr"


def test_overseas_numbers_are_french_numbers(ctx):
    receipt = book("0692 12 34 56", key="reunion")
    assert unseal(rows(Callback)[0].phone_sealed) == "+262692123456" and receipt.details["sms"]
    book("+596 596 60 12 34", slot="pm", key="martinique")  # a landline in Martinique, in the Paris afternoon
    assert len(rows(Callback)) == 2 and len(rows(OutboxMessage)) == 1


def test_overseas_a_callback_is_offered_and_told_in_the_hours_of_where_the_phone_rings(ctx):
    """Advisers work Paris hours: 08:30-13:00 in Paris is 11:30-16:00 in La Réunion and 03:30-08:00 in
    Martinique, where nobody is called before 08:00 nor after 20:00."""
    receipt = book("0692 12 34 56", slot="pm", language="fr", key="reunion")
    text = outbox.text_of(rows(OutboxMessage)[0])
    assert "lundi 30 novembre" in text and "16:00" in text and "20:00" in text, text  # 17:30 Paris is 20:30 there
    assert len(text) <= 160
    [view] = callbacks.pending()
    assert [f"{t:%H:%M}" for t in view.call_hours] == ["16:00", "20:00"] and view.reference == receipt.reference
    with pytest.raises(CallbackRefused) as refused:  # the Paris morning is the night in Martinique
        book("+596 596 60 12 34", slot="am", key="martinique-am")
    assert refused.value.reason == Reason.SLOT_NOT_OFFERED
    book("+596 596 60 12 34", slot="pm", language="en", key="martinique-pm")
    assert callbacks.pending()[1].call_hours[0].strftime("%H:%M") == "08:00"


def test_a_landline_gets_no_sms(ctx):
    receipt = book("01 40 00 00 00")
    assert receipt.details["sms"] is False
    assert unseal(rows(Callback)[0].phone_sealed) == "+33140000000"
    assert rows(OutboxMessage) == []
    assert references.sent_on(receipt.reference) == MONDAY  # the reference can still be checked on the line


def test_an_identified_caller_is_linked_and_audited_as_themselves(ctx, enrol):
    h = enrol(phone="+33699999999")
    receipt = book(actor=Actor(h.person_id, "voice"), goal="change")  # called back on another number
    assert (receipt.subject_id, receipt.actor_id) == (h.person_id, h.person_id)
    assert rows(Callback)[0].person_id == h.person_id
    [entry] = audited("callback.requested")
    assert (entry.actor, entry.subject) == (f"person:{h.person_id}", f"person:{h.person_id}")
    [msg] = [m for m in rows(OutboxMessage) if m.reference == receipt.reference]
    assert msg.person_id == h.person_id and outbox._recipient(msg) == MOBILE and msg.recipient == "+33*******78"


# --- the same request once -------------------------------------------------------------------------

def test_the_same_key_books_once(ctx):
    first = book()
    again = book(slot="pm", goal=None)
    assert again == first
    assert len(rows(Callback)) == 1 and len(audited("callback.requested")) == 1 and len(rows(OutboxMessage)) == 1
    assert book(key="k2").reference != first.reference and len(rows(Callback)) == 2


def test_a_retry_after_the_half_day_has_passed_still_gets_its_first_receipt(ctx):
    first = book()
    clock.freeze(datetime(2026, 11, 30, 16, 0))  # 17:00 in Paris: the morning is no longer offered
    assert book() == first
    with pytest.raises(CallbackRefused):
        book(key="k2")


def test_a_burst_of_the_same_request_books_once(app, ctx):
    n, results, errors = 10, [], []
    start = threading.Barrier(n, timeout=30)

    def run():
        try:
            with app.app_context():
                start.wait()
                results.append(book(key="burst").reference)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(results) == n and len(set(results)) == 1
    assert len(rows(Callback)) == 1 and len(audited("callback.requested")) == 1 and len(rows(OutboxMessage)) == 1
    assert audit.verify()[0]


# --- refusals: nothing booked ----------------------------------------------------------------------

@pytest.mark.parametrize("phone, reason", [
    ("12", Reason.PHONE_INVALID), ("", Reason.PHONE_INVALID), ("06 12 34", Reason.PHONE_INVALID),
    ("call me", Reason.PHONE_INVALID), ("+33 6 12 34 56 78 9", Reason.PHONE_INVALID),
    ("+44 20 7946 0958", Reason.PHONE_NOT_FRENCH), ("+1 202 555 0143", Reason.PHONE_NOT_FRENCH),
    ("08 99 12 34 56", Reason.PHONE_NOT_CALLABLE),   # premium rate
])
def test_a_number_that_cannot_be_called_back_is_refused(ctx, phone, reason):
    with pytest.raises(CallbackRefused) as refused:
        book(phone)
    assert refused.value.reason == reason
    assert rows(Callback) == [] and rows(AuditEntry) == [] and rows(OutboxMessage) == []


@pytest.mark.parametrize("day, slot", [(date(2026, 12, 1), "am"), (date(2026, 12, 5), "am"),
                                       (date(2026, 11, 27), "pm")])
def test_a_half_day_not_offered_is_refused(ctx, day, slot):
    with pytest.raises(CallbackRefused) as refused:
        book(day=day, slot=slot)
    assert refused.value.reason == Reason.SLOT_NOT_OFFERED
    assert rows(Callback) == [] and rows(AuditEntry) == [] and rows(OutboxMessage) == []


@pytest.mark.parametrize("wrong", [{"slot": "morning"}, {"goal": "shopping"}, {"language": "de"}, {"key": ""}])
def test_values_no_channel_may_send_are_programming_errors(ctx, wrong):
    with pytest.raises(ValueError):
        book(**wrong)
    assert rows(Callback) == []


# --- advisers: the list, done, cancelled -------------------------------------------------------------

def test_pending_lists_oldest_first_with_the_number(ctx):
    first = book(key="a")
    clock.freeze(datetime(2026, 11, 30, 9, 5))
    second = book("01 40 00 00 00", slot="pm", goal=None, language="en", key="b")
    listed = callbacks.pending()
    assert [(c.reference, c.phone, c.slot, c.goal, c.language) for c in listed] == \
        [(first.reference, MOBILE, "am", "history", "fr"), (second.reference, "+33140000000", "pm", None, "en")]
    assert len(callbacks.pending(limit=1)) == 1


def test_done_forgets_the_number_and_is_audited(ctx):
    receipt = book()
    clock.freeze(datetime(2026, 11, 30, 10, 0))
    adviser = Actor(None, "cli")
    done = callbacks.mark_done(receipt.id, adviser)
    assert (done.status, done.phone, done.done_at) == ("done", None, datetime(2026, 11, 30, 10, 0))
    [row] = rows(Callback)
    assert (row.status, row.phone_sealed) == ("done", None) and row.phone_lookup == lookup("phone", MOBILE)
    assert callbacks.pending() == []
    assert [(c.id, c.status, c.phone) for c in callbacks.latest()] == [(receipt.id, "done", None)]
    [entry] = audited("callback.done")
    assert (entry.actor, entry.channel) == ("operator", "cli")
    assert json.loads(entry.details) == {"callback": receipt.id, "reference": receipt.reference}
    assert callbacks.mark_done(receipt.id, adviser).status == "done"  # again: nothing more
    assert len(audited("callback.done")) == 1
    with pytest.raises(InvalidTransition):
        callbacks.cancel(receipt.id, adviser)
    assert numbers_in(Callback, AuditEntry) == []


def test_cancel_forgets_the_number_too(ctx):
    receipt = book()
    assert callbacks.cancel(receipt.id, Actor(None, "cli")).status == "cancelled"
    assert rows(Callback)[0].phone_sealed is None and len(audited("callback.cancelled")) == 1
    with pytest.raises(InvalidTransition):
        callbacks.mark_done(receipt.id, Actor(None, "cli"))


def test_closing_a_callback_that_does_not_exist(ctx):
    with pytest.raises(NotFound):
        callbacks.mark_done(999, Actor(None, "cli"))


# --- transfers to an adviser ----------------------------------------------------------------------------

def test_each_transfer_is_audited(ctx, enrol):
    h = enrol()
    callbacks.record_transfer(None, goal=None, identified=False, outcome="closed", call_tail="CA1234567890abcdef")
    callbacks.record_transfer(Actor(h.person_id, "voice"), goal="emergency", identified=True, outcome="dialled",
                              call_tail="abcdef")
    callbacks.record_transfer(Actor(h.person_id, "voice"), goal="emergency", identified=True, outcome="answered",
                              call_tail="abcdef")
    callbacks.record_transfer(CALLER, goal="for_other", identified=False, outcome="no-answer", call_tail="123456")
    entries = audited("agent.transfer")
    assert [(e.actor, e.subject, e.channel, json.loads(e.details)) for e in entries] == [
        ("anonymous", None, "voice", {"goal": None, "identified": False, "outcome": "closed", "call": "abcdef"}),
        (f"person:{h.person_id}", f"person:{h.person_id}", "voice",
         {"goal": "emergency", "identified": True, "outcome": "dialled", "call": "abcdef"}),
        (f"person:{h.person_id}", f"person:{h.person_id}", "voice",
         {"goal": "emergency", "identified": True, "outcome": "answered", "call": "abcdef"}),
        ("anonymous", None, "voice", {"goal": "for_other", "identified": False, "outcome": "no-answer",
                                      "call": "123456"})]
    with pytest.raises(ValueError):
        callbacks.record_transfer(None, goal=None, identified=False, outcome="hung up", call_tail="123456")
    assert audit.verify()[0]
