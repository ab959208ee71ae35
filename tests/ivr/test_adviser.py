"""Issue 12 §6: a person when needed. During OPENING_HOURS, 0 0 or «conseiller» at any step transfers to an
adviser (a <Dial> built with twilio.twiml, with a whisper that says what the caller was doing, never a number);
out of hours or when nobody answers, a callback: a half-day, the number confirmed or typed, stored, confirmed
by SMS to a mobile, listed by `flask --app app callbacks list`. Each transfer and callback is audited.
"""
import xml.etree.ElementTree as ET
from datetime import datetime

import pytest
from twilio.request_validator import RequestValidator

from app import clock
from app.models import AuditEntry, Callback, db

from .conftest import call_state, outbox, step

MONDAY_10_PARIS = datetime(2026, 12, 7, 9, 0)      # naive UTC, as clock.now() gives it
SATURDAY_10_PARIS = datetime(2026, 12, 5, 9, 0)
CHRISTMAS_10_PARIS = datetime(2026, 12, 25, 9, 0)  # a Friday, a public holiday
AGENT = "+33140000000"


@pytest.fixture
def agents_at(app):
    """agents_at(moment): the clock at `moment`, an adviser line configured; both restored afterwards."""
    saved = app.config["AGENT_NUMBER"]

    def at(moment, number=AGENT):
        clock.freeze(moment)
        app.config["AGENT_NUMBER"] = number
    yield at
    clock.freeze(None)
    app.config["AGENT_NUMBER"] = saved


def audit(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = list(db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == action)))
        for r in rows:
            db.session.expunge(r)
        return rows


def test_zero_zero_in_opening_hours_transfers_with_a_whisper(app, en, agents_at):
    agents_at(MONDAY_10_PARIS)
    c = en().press("1").press("0").press("0")
    assert step(app, c) == "transfer"
    assert c.last == ["I am putting you through to an adviser. Please hold."]
    assert c.dial["number"] == AGENT and c.dial["whisper"] == "/ivr/whisper"
    assert int(c.dial["timeout"]) == app.config["AGENT_RING_SECONDS"]
    assert [e.details for e in audit(app, "agent.transfer")][-1].count("dialled") == 1


@pytest.mark.parametrize("words", ["un conseiller s'il vous plaît", "je veux parler à quelqu'un"])
def test_saying_conseiller_at_any_step_transfers(app, fr, agents_at, words):
    agents_at(MONDAY_10_PARIS)
    for c in (fr(), fr().press("3"), fr().press("0")):
        c.speak(words)
        assert step(app, c) == "transfer", c.last


def test_the_whisper_says_in_one_sentence_what_the_caller_was_doing_then_only_a_desk_code(app, en, enrol, agents_at):
    agents_at(MONDAY_10_PARIS)
    holder = enrol(days_ago=60)
    c = en().press("4").identify(holder)
    c.press("0").press("0")
    assert step(app, c) == "transfer"
    url = "/ivr/whisper"
    params = {"CallSid": "CA" + "f" * 32, "ParentCallSid": c.sid, "AccountSid": "AC" + "0" * 32}
    signature = RequestValidator(app.config["TWILIO_AUTH_TOKEN"]).compute_signature(
        app.config["PUBLIC_BASE_URL"] + url, params)
    response = app.test_client().post(url, data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    says = [el.text for el in ET.fromstring(response.get_data(as_text=True)).iter("Say")]
    assert len(says) == 2 and says[0].count(".") == 1
    assert "urgence" in says[0] and "identifiée" in says[0].replace("identifié", "identifiée")
    assert not any(ch.isdigit() for ch in says[0])
    # then, for an identified caller, the desk's one-time code (issue 14): six digits, twice, nothing of theirs
    digits = "".join(ch for ch in says[1] if ch.isdigit())
    assert len(digits) == 12 and digits[:6] == digits[6:] and digits[:6] not in holder.nir
    assert app.test_client().post(url, data=params).status_code == 403  # unsigned


def test_nobody_answering_offers_a_callback(app, en, agents_at):
    agents_at(MONDAY_10_PARIS)
    c = en().press("0").press("0").dial_ends("no-answer")
    assert step(app, c) == "callback"
    assert c.last[0] == "No adviser is free at the moment."
    assert "no-answer" in audit(app, "agent.transfer")[-1].details


def test_after_a_conversation_the_call_ends_politely(app, en, agents_at):
    agents_at(MONDAY_10_PARIS)
    c = en().press("0").press("0").dial_ends("completed")
    assert c.ended and "Goodbye" in c.last[-1]


@pytest.mark.parametrize("moment", [SATURDAY_10_PARIS, CHRISTMAS_10_PARIS])
def test_out_of_hours_the_caller_is_told_when_and_offered_a_callback(app, en, agents_at, moment):
    agents_at(moment)
    c = en().press("0").press("0")
    assert step(app, c) == "callback"
    assert c.last[0].startswith("Our advisers are not available now. They answer again on Monday")
    assert c.last[-3:] == [c.last[-3], c.last[-2], "To go back, press 9."]
    assert "morning" in c.last[-3] or "afternoon" in c.last[-3]


def test_a_callback_to_the_caller_id_is_stored_confirmed_by_sms_and_listed(app, en, agents_at, twilio):
    agents_at(SATURDAY_10_PARIS)
    c = en(caller="+33611112233").press("0").press("0").press("1")
    assert step(app, c) == "callback_number"
    assert c.last[0] == "We will call you on 06 11 11 22 33."
    c.press("1")
    assert step(app, c) == "receipt"
    assert c.last[0].startswith("An adviser will call you back on Monday")
    with app.app_context():
        [row] = db.session.scalars(db.select(Callback)).all()
        assert row.slot_day.isoformat() == "2026-12-07" and row.slot == "am" and row.status == "pending"
        assert "+33611112233" not in repr([getattr(row, col.name) for col in Callback.__table__.columns])
    assert any(m.channel == "sms" and m.person_id is None for m in outbox(app))
    assert audit(app, "callback.requested")
    result = app.test_cli_runner().invoke(args=["callbacks", "list"])
    assert result.exit_code == 0 and "+33611112233" in result.output and "2026-12-07" in result.output


def test_a_withheld_number_types_the_number_to_call_back(app, en, agents_at):
    agents_at(SATURDAY_10_PARIS)
    c = en(caller="anonymous").press("0").press("0").press("2")
    assert step(app, c) == "callback_phone"
    c.press("12#")
    assert step(app, c) == "callback_phone" and "not right" in c.last[0]
    c.press("0145678901#")
    assert c.last[0] == "We will call you on 01 45 67 89 01."
    c.press("1")
    with app.app_context():
        [row] = db.session.scalars(db.select(Callback)).all()
        assert row.slot == "pm"
    assert not call_state(app, c).data.get("callback_phone")  # the number served: not kept in the call


def test_another_number_can_be_given_instead_of_the_caller_id(app, en, agents_at):
    agents_at(SATURDAY_10_PARIS)
    c = en().press("0").press("0").press("1").press("2")
    assert step(app, c) == "callback_phone"
    c.press("0692123456#")  # La Réunion
    assert step(app, c) == "callback_number" and "0692 12 34 56" in c.last[0]


def test_a_retried_callback_confirmation_stores_one_callback(app, en, agents_at):
    agents_at(SATURDAY_10_PARIS)
    c = en().press("0").press("0").press("1")
    first = c.replay("1")
    again = c.replay("1")
    assert first.get_data() == again.get_data()
    with app.app_context():
        assert len(db.session.scalars(db.select(Callback)).all()) == 1


def test_without_an_adviser_line_a_callback_is_offered_at_once(app, en, agents_at):
    agents_at(MONDAY_10_PARIS, number="")
    c = en().press("0").press("0")
    assert step(app, c) == "callback"


def test_a_twilio_queue_of_advisers_can_take_the_calls(app, en, agents_at):
    agents_at(MONDAY_10_PARIS, number="queue:advisers")
    c = en().press("0")
    at_help = c.action
    c.press("0")
    assert step(app, c) == "transfer"
    root = ET.fromstring(c._signed_post(at_help, c.params(Digits="0")).get_data(as_text=True))  # Twilio's retry
    enqueue = root.find("Enqueue")
    assert enqueue is not None and enqueue.text == "advisers"
    bridged = c._signed_post(enqueue.get("action"), c.params(QueueResult="bridged"))
    assert "<Hangup" in bridged.get_data(as_text=True)  # after the conversation: goodbye


def test_a_queue_nobody_took_offers_a_callback(app, en, agents_at):
    agents_at(MONDAY_10_PARIS, number="queue:advisers")
    c = en().press("0").press("0")
    c._answer(c._signed_post(f"/ivr/voice?n={call_state(app, c).seq}", c.params(QueueResult="leave")))
    assert step(app, c) == "callback"


def test_one_number_gets_two_callbacks_a_day_at_most(app, en, agents_at):
    """Anyone may type any number: neither its owner nor the advisers' list is flooded."""
    agents_at(SATURDAY_10_PARIS)
    for _ in range(2):
        en(caller="+33611114444").press("0").press("0").press("1").press("1")
    c = en(caller="+33611114444").press("0").press("0").press("1").press("1")
    assert c.last[0] == "This number already has a callback booked today. Nothing more was booked."
    with app.app_context():
        assert len(db.session.scalars(db.select(Callback)).all()) == 2


def test_a_caller_in_martinique_is_offered_the_hours_of_martinique(app, en, agents_at):
    """Saturday: the next half-days advisers work are Monday's; Monday morning in Paris is the night in Martinique,
    so the afternoon is offered, said on the caller's clock (08:00-12:30), and Tuesday afternoon after it."""
    agents_at(SATURDAY_10_PARIS)
    c = en(caller="+596696123456").press("0").press("0")
    assert step(app, c) == "callback"
    assert c.last[0] == "Our advisers are not available now. They answer again on Monday 7 December at 03:30."
    assert c.last[1:4] == ["An adviser can call you back.",
                           "To be called back Monday 7 December, between 08:00 and 12:30, press 1.",
                           "To be called back Tuesday 8 December, between 08:00 and 12:30, press 2."]
    c.press("1").press("1")
    assert c.last[0] == "An adviser will call you back on Monday 7 December, between 08:00 and 12:30."
    with app.app_context():
        [row] = db.session.scalars(db.select(Callback)).all()
        assert (row.slot_day.isoformat(), row.slot) == ("2026-12-07", "pm")
    result = app.test_cli_runner().invoke(args=["callbacks", "list"])
    assert "call 13:00-17:30 Paris (08:00-12:30 there)" in result.output, result.output
