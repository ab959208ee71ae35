"""/ivr/status: the end of a call is recorded and what was typed is forgotten; SMS delivery reports update the
outbox."""
from datetime import datetime

import pytest

from app import clock
from app.domain.identifiers import keypad_form
from app.models import CallState, OutboxMessage
from ivr import speech
from tests.conftest import Caller

from .conftest import call_state, count, outbox

TYPED = ("nir", "serial", "birth", "code")


def end_call(c, status="completed"):
    response = c._signed_post("/ivr/status", c.params(CallStatus=status, CallDuration="42"))
    assert response.status_code == 204
    return response


def at_the_read_back(en, holder):
    """Details that do not match: kept for the call, read back so that one part can be given again."""
    c = en().press("1").press(holder.nir + "#").press(holder.vitale_serial + "#")
    return c.press(holder.birth_date.strftime("%d%m%Y") + "#").press(keypad_form("AAAAAAAAAAAA") + "#")


# --- calls ---------------------------------------------------------------------------------------------

def test_a_completed_call_records_its_end(app, en):
    c = en()
    clock.freeze(datetime(2026, 11, 24, 10, 30))
    end_call(c)
    row = call_state(app, c)
    assert row.status == "completed" and row.ended_at == datetime(2026, 11, 24, 10, 30)


def test_the_end_of_a_call_forgets_what_was_typed(app, en, enrol):
    holder = enrol(days_ago=10)
    c = at_the_read_back(en, holder)
    assert set(TYPED) <= set(call_state(app, c).data)
    end_call(c)
    assert not set(TYPED) & set(call_state(app, c).data)


def test_the_end_of_a_call_forgets_who_was_identified(app, en, enrol):
    holder = enrol(days_ago=10)
    c = en().press("1").identify(holder)
    assert call_state(app, c).data["person_id"] == holder.person_id
    end_call(c)
    assert "person_id" not in call_state(app, c).data


def test_the_end_of_a_call_keeps_no_typed_number_in_the_last_answer_either(app, en, enrol):
    """The answer kept for retries read the NIR, the serial and the code back: once the call is over it must go too."""
    holder = enrol(days_ago=10)
    c = at_the_read_back(en, holder)
    end_call(c)
    kept = call_state(app, c).last_twiml
    assert speech.nir(holder.nir) not in kept
    assert speech.groups(holder.vitale_serial, 3) not in kept
    assert speech.groups(keypad_form(holder.code), 2) not in kept  # the letter's code, as typed


@pytest.mark.parametrize("status", ["busy", "failed", "no-answer", "canceled"])
def test_other_final_statuses_end_the_call_too(app, en, status):
    c = en()
    end_call(c, status)
    row = call_state(app, c)
    assert row.status == status and row.ended_at is not None


@pytest.mark.parametrize("status", ["ringing", "in-progress"])
def test_a_call_still_going_is_not_ended(app, en, status):
    c = en()
    end_call(c, status)
    row = call_state(app, c)
    assert row.status == status and row.ended_at is None


def test_a_repeated_end_keeps_the_first_time(app, en):
    c = en()
    clock.freeze(datetime(2026, 11, 24, 10, 30))
    end_call(c)
    clock.freeze(datetime(2026, 11, 24, 10, 31))
    end_call(c)
    assert call_state(app, c).ended_at == datetime(2026, 11, 24, 10, 30)


def test_the_end_of_an_unknown_call_creates_nothing(app):
    end_call(Caller(app))
    assert count(app, CallState) == 0


# --- messages -----------------------------------------------------------------------------------------

def delivery_report(app, sid, status):
    c = Caller(app)
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32,
              "From": "+33900003422", "To": "+33612345678"}
    response = c._signed_post("/ivr/status", params)
    assert response.status_code == 204
    return response


def test_a_delivery_report_updates_the_message_it_is_about(app, sent_sms):
    message = sent_sms()
    delivery_report(app, message.provider_id, "delivered")
    assert outbox(app, id=message.id)[0].status == "delivered"


def test_a_delivery_report_for_another_message_changes_nothing(app, sent_sms):
    message = sent_sms()
    delivery_report(app, "SM" + "f" * 32, "delivered")
    assert outbox(app, id=message.id)[0].status == "sent"
    assert count(app, OutboxMessage) == 1


def test_a_failed_delivery_is_recorded(app, sent_sms):
    message = sent_sms()
    delivery_report(app, message.provider_id, "failed")
    assert outbox(app, id=message.id)[0].status == "failed"


def test_an_undelivered_message_is_recorded_as_such(app, sent_sms):
    """Twilio's 'undelivered' has 11 letters: it must not be stored cut to 'undelivere'."""
    message = sent_sms()
    delivery_report(app, message.provider_id, "undelivered")
    assert outbox(app, id=message.id)[0].status in ("undelivered", "failed")


def test_a_late_sent_report_does_not_undo_delivered(app, sent_sms):
    """Twilio does not promise status callbacks arrive in order: 'sent' may come after 'delivered'."""
    message = sent_sms()
    delivery_report(app, message.provider_id, "delivered")
    delivery_report(app, message.provider_id, "sent")
    assert outbox(app, id=message.id)[0].status == "delivered"


def test_a_delivery_report_is_not_taken_for_the_end_of_a_call(app, en, sent_sms):
    c = en()
    message = sent_sms()
    params = c.params(MessageSid=message.provider_id, MessageStatus="delivered")  # both ids present
    assert c._signed_post("/ivr/status", params).status_code == 204
    assert outbox(app, id=message.id)[0].status == "delivered"
    row = call_state(app, c)
    assert row.ended_at is None and row.status == "in-progress"
