"""Twilio retries webhooks and callers do odd things: the same step is answered the same way, and never with a 500."""
import xml.etree.ElementTree as ET

import pytest

from app.models import ActionRecord, CallState, Throttle, db
from tests.conftest import Caller

from .conftest import REFERENCE, action_records, call_state, count, space, step


def is_twiml(response) -> ET.Element:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.get_data(as_text=True))
    assert root.tag == "Response"
    return root


def speaks_and_waits(root: ET.Element) -> bool:
    """A usable answer: something said, then a <Gather> (or a polite <Hangup>)."""
    says = [el for el in root.iter("Say") if (el.text or "").strip()]
    return bool(says) and (root.find("Gather") is not None or root.find("Hangup") is not None)


# --- the same webhook twice ----------------------------------------------------------------------

@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_retried_confirmation_gets_the_same_twiml_and_acts_once(app, en, fr, enrol, language):
    holder = enrol(days_ago=10)
    c = (en if language == "en" else fr)().press("1").identify(holder)
    first = c.replay("1")       # the confirmation...
    second = c.replay("1")      # ...and Twilio's retry of it
    assert first.status_code == second.status_code == 200
    assert second.get_data() == first.get_data()
    assert REFERENCE.search(first.get_data(as_text=True))
    assert count(app, ActionRecord) == 1 and space(app, holder).state == "opposed"


def test_a_retried_emergency_change_acts_once(app, en, enrol):
    holder = enrol(days_ago=60)
    c = en().press("4").identify(holder).press("1")
    first, second, third = c.replay("1"), c.replay("1"), c.replay("1")
    assert first.get_data() == second.get_data() == third.get_data()
    assert [r.action for r in action_records(app, holder)] == ["emergency.samu.off"]
    assert space(app, holder).samu_access is False


def test_a_retried_close_with_deletion_acts_once(app, fr, enrol):
    holder = enrol(days_ago=60)
    c = fr().press("1").identify(holder).press("2")
    assert c.replay("1").get_data() == c.replay("1").get_data()
    assert len(action_records(app, holder)) == 1


def test_a_retried_identification_counts_one_failure(app, en, enrol):
    holder = enrol(days_ago=10)
    c = en().press("1")
    from app.domain.identifiers import keypad_form
    c.press(holder.nir + "#").press(holder.vitale_serial + "#").press(holder.birth_date.strftime("%d%m%Y") + "#")
    c.press(keypad_form("AAAAAAAAAAAA") + "#")
    assert c.replay("1").get_data() == c.replay("1").get_data()
    with app.app_context():
        failures = db.session.scalars(db.select(Throttle.failures).where(Throttle.key.like("nir:%"))).one()
    assert failures == 1


def test_the_first_webhook_repeated_gets_the_greeting_again_and_no_second_call(app, call):
    c = call().start()
    greeting = c._signed_post("/ivr/voice", c.params())
    again = c._signed_post("/ivr/voice", c.params())
    assert greeting.get_data() == again.get_data()
    first = ET.fromstring(greeting.get_data(as_text=True))
    assert [s.text for s in first.iter("Say")] == c.last
    assert count(app, CallState) == 1 and call_state(app, c).seq == 1


def test_after_a_retry_the_call_goes_on_normally(app, en, enrol):
    holder = enrol(days_ago=10)
    c = en().press("1").identify(holder)
    first = c.replay("1")
    c.replay("1")
    c.press("1")  # a third time, read as the caller hears it: the same receipt
    assert REFERENCE.search(c.text).group(0) in first.get_data(as_text=True)
    c.press("1")  # its <Gather> leads on to the main menu
    assert step(app, c) == "menu" and count(app, ActionRecord) == 1


def test_a_stale_webhook_from_an_earlier_step_acts_on_nothing(app, en, enrol):
    holder = enrol(days_ago=10)
    c = en().press("1").identify(holder)
    oppose_action = c.action
    c.press("2")  # "no": back to the menu
    root = is_twiml(c._signed_post(oppose_action, c.params(Digits="1")))
    assert speaks_and_waits(root)
    assert space(app, holder).state == "notified" and count(app, ActionRecord) == 0


# --- odd requests -------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["n=999", "n=abc", "n=-1", "n=", "n=1.5"])
def test_an_odd_step_number_gets_valid_twiml(app, en, query):
    c = en()
    before = call_state(app, c)
    root = is_twiml(c._signed_post("/ivr/voice?" + query, c.params(Digits="1")))
    assert speaks_and_waits(root)
    after = call_state(app, c)
    assert (after.step, after.seq) == (before.step, before.seq)


@pytest.mark.parametrize("query", ["n=999", "n=abc"])
def test_an_odd_step_number_on_an_unknown_call_gets_valid_twiml(app, query):
    c = Caller(app)
    root = is_twiml(c._signed_post("/ivr/voice?" + query, c.params(Digits="1")))
    assert speaks_and_waits(root)


def test_keys_pressed_after_the_call_state_was_lost_get_valid_twiml(app, en):
    c = en().press("1")
    with app.app_context():
        db.session.execute(db.delete(CallState).where(CallState.call_sid == c.sid))
        db.session.commit()
    response = c._signed_post(c.action, c.params(Digits="2"))
    root = is_twiml(response)
    assert speaks_and_waits(root)
    assert count(app, CallState) == 1


def test_the_caller_can_go_on_after_the_state_was_lost(app, en):
    c = en().press("1")
    with app.app_context():
        db.session.execute(db.delete(CallState).where(CallState.call_sid == c.sid))
        db.session.commit()
    c.press("2")  # the server starts the call again: the main menu
    assert step(app, c) == "menu" and c.action and not c.ended
    c.press("1")
    assert step(app, c) == "nir"


def test_keys_after_the_end_of_the_call_get_valid_twiml(app, en):
    c = en()
    for keys in ("1", "240037511200567#", "80123456780#", "25031950#", "234567892345#"):
        c.press(keys)
    assert step(app, c) == "fix"  # nobody has these details: read back, one part to give again
    assert c._signed_post("/ivr/status", c.params(CallStatus="completed")).status_code == 204
    for digits in ("1", "2", "*"):
        root = is_twiml(c._signed_post(c.action, c.params(Digits=digits)))
        assert speaks_and_waits(root)


@pytest.mark.parametrize("digits", ["A", "##", "9" * 400, "1*2*3", "  "])
def test_odd_keys_at_a_number_prompt_get_valid_twiml(app, en, digits):
    c = en().press("1")
    root = is_twiml(c._signed_post(c.action, c.params(Digits=digits)))
    assert speaks_and_waits(root)


@pytest.mark.parametrize("speech", ["", "😀😀", "x" * 5000, "'''"])
def test_odd_speech_at_the_menu_gets_valid_twiml(app, en, speech):
    c = en()
    root = is_twiml(c._signed_post(c.action, c.params(SpeechResult=speech, Confidence="0.1")))
    assert speaks_and_waits(root)


def test_a_request_without_a_call_sid_is_refused_without_an_error(app):
    c = Caller(app)
    params = {k: v for k, v in c.params().items() if k != "CallSid"}
    response = c._signed_post("/ivr/voice", params)
    assert response.status_code == 400 and response.mimetype == "text/xml"
