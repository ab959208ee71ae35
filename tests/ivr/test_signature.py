"""Every webhook proves it comes from Twilio (X-Twilio-Signature); anything else gets 403 and changes nothing."""
import pytest
from twilio.request_validator import RequestValidator

from app.models import CallState, OutboxMessage
from tests.conftest import Caller

from .conftest import call_state, count, outbox

WEBHOOKS = ["/ivr/voice", "/ivr/status"]


def signature(url: str, params: dict, token: str = "test-auth-token") -> str:
    return RequestValidator(token).compute_signature(url, params)


@pytest.mark.parametrize("path", WEBHOOKS)
def test_an_unsigned_request_is_refused_and_creates_nothing(app, path):
    c = Caller(app)
    response = c.client.post(path, data=c.params())
    assert response.status_code == 403
    assert count(app, CallState) == 0


@pytest.mark.parametrize("path", WEBHOOKS)
def test_a_forged_signature_is_refused_and_creates_nothing(app, path):
    c = Caller(app)
    assert c._signed_post(path, c.params(), signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    # signed with another account's token
    forged = signature("https://relais.test" + path, c.params(), token="someone-elses-token")
    assert c._signed_post(path, c.params(), signature=forged).status_code == 403
    assert count(app, CallState) == 0


@pytest.mark.parametrize("path", WEBHOOKS)
def test_a_request_signed_for_another_url_is_refused(app, path):
    c = Caller(app)
    elsewhere = signature("https://elsewhere.test" + path, c.params())
    assert c._signed_post(path, c.params(), signature=elsewhere).status_code == 403
    assert count(app, CallState) == 0


def test_a_signature_for_another_step_is_refused(en):
    c = en()
    assert c.action == "/ivr/voice?n=2"
    # signed for the same path without the step number: the query string is part of what Twilio signs
    wrong = signature("https://relais.test/ivr/voice", c.params(Digits="1"))
    assert c._signed_post(c.action, c.params(Digits="1"), signature=wrong).status_code == 403


def test_a_signed_request_with_altered_parameters_is_refused(app, en):
    c = en()
    before = call_state(app, c)
    signed_for_1 = signature("https://relais.test" + c.action, c.params(Digits="1"))
    assert c._signed_post(c.action, c.params(Digits="4"), signature=signed_for_1).status_code == 403
    after = call_state(app, c)
    assert (after.step, after.seq, after.data, after.last_twiml) == \
        (before.step, before.seq, before.data, before.last_twiml)


def test_a_forged_key_press_changes_nothing_in_a_live_call(app, en):
    c = en()
    before = call_state(app, c)
    assert c.client.post(c.action, data=c.params(Digits="1")).status_code == 403
    assert c._signed_post(c.action, c.params(Digits="1"), signature="forged").status_code == 403
    after = call_state(app, c)
    assert (after.step, after.seq, after.data, after.last_twiml) == \
        (before.step, before.seq, before.data, before.last_twiml)
    # the genuine key press is still expected at the same step
    c.press("1")
    assert call_state(app, c).step == "nir"


def test_a_forged_end_of_call_changes_nothing(app, en):
    c = en()
    response = c._signed_post("/ivr/status", c.params(CallStatus="completed"), signature="forged")
    assert response.status_code == 403
    row = call_state(app, c)
    assert row.status == "in-progress" and row.ended_at is None


def test_a_forged_delivery_report_changes_nothing(app, sent_sms):
    message = sent_sms()
    c = Caller(app)
    params = {"MessageSid": message.provider_id, "MessageStatus": "delivered", "AccountSid": "AC" + "0" * 32}
    assert c.client.post("/ivr/status", data=params).status_code == 403
    assert c._signed_post("/ivr/status", params, signature="forged").status_code == 403
    assert outbox(app, id=message.id)[0].status == "sent"
    assert count(app, OutboxMessage) == 1
