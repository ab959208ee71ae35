"""Every parameter of the Twilio webhooks, signed as Twilio signs them: never a 5xx, always TwiML, no change for
nonsense.

Calls and messages are walked with any Digits, SpeechResult, Body, From, CallSid, MessageSid, MessageStatus and
step number `?n=`. An unidentified caller or an unregistered number can never change anyone's state; an
identified caller pressing keys at random may act, but each step makes at most one change, with its receipt.
"""
import re
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import quote

from hypothesis import event, example, given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from app.models import OutboxMessage, db
from app.services import commands, one_time
from ivr.sms import WORDS, twilio_word
from ivr.speech import fold
from tests.conftest import Caller

from .conftest import (
    DIGIT_LOOKALIKES,
    PHONE_C,
    PHONE_H,
    PHONE_T,
    ErrorLog,
    assert_unchanged,
    changed_tables,
    column,
    describe_change,
    dump_all,
    examples,
    snapshot,
    weird_text,
)

VOICE_VERBS = {"Response", "Say", "Gather", "Hangup", "Redirect", "Pause", "Play"}


def signed_post(app, client, path: str, params: dict, signature: str | None = None):
    if signature is None:
        url = app.config["PUBLIC_BASE_URL"] + path
        signature = RequestValidator(app.config["TWILIO_AUTH_TOKEN"]).compute_signature(url, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def twiml(response) -> ET.Element:
    assert response.mimetype == "text/xml", response.mimetype
    root = ET.fromstring(response.get_data(as_text=True))
    assert root.tag == "Response"
    return root


def sid_ok(sid) -> bool:
    """What the webhooks take for a Twilio id (letters and digits, at most 64); anything else is a 400."""
    return bool(re.fullmatch(r"[A-Za-z0-9]{1,64}", sid or ""))


call_sid = st.one_of(*[st.builds(lambda: "CA" + uuid.uuid4().hex)] * 6, st.just(""), st.just("CA" + "f" * 63),
                     weird_text)
message_sid = st.one_of(*[st.builds(lambda: "SM" + uuid.uuid4().hex)] * 6, st.just(""), st.just("SM" + "0" * 63),
                        weird_text)
REGISTERED = [PHONE_H, PHONE_T, PHONE_C, "0612345678", "06 12 34 56 78", "+33 6 12 34 56 78"]
phone = st.one_of(st.sampled_from(REGISTERED), st.sampled_from(REGISTERED), st.sampled_from(REGISTERED),
                  st.sampled_from(["+33611111111", "+1 202 555 0100", "anonymous", "client:alice", "+", ""]),
                  weird_text)
keypad = st.text(st.sampled_from("0123456789*#"), max_size=20)
short_keys = st.sampled_from(["", "1", "2", "3", "4", "9", "0", "*", "#", "11", "99", "1#", "*1"])
# Numbers a caller may type at the identification steps: H's NIR and card, a birth date that is not H's (so that
# nobody is ever identified, not even by SMS code), near misses, keypad forms of codes.
plausible = st.sampled_from(["240037511200567", "2741122*100401768", "2400375112005", "80123456789", "25031951",
                             "31021950", "9", "223344556677", "000000000000", "123456", "2*1", "1" * 30])
digits = st.one_of(st.none(), keypad, short_keys, short_keys, weird_text, plausible, plausible,
                   st.text(st.sampled_from("0123456789" + DIGIT_LOOKALIKES[:30]), min_size=1, max_size=16))
speech = st.one_of(st.none(), st.none(), weird_text,
                   st.sampled_from(["oui", "non", "yes", "no", "pas d'accord", "répéter", "aide", "historique",
                                    "fermer", "urgence", "opérateur", "history", "close", "emergency", "repeat"]))
twilio_extra = st.dictionaries(
    st.one_of(st.sampled_from(["Confidence", "CallStatus", "To", "Direction", "ApiVersion", "FinishedOnKey",
                               "msg", "I-Twilio-Idempotency-Token", "bodySHA256"]), st.text(min_size=1, max_size=12)),
    weird_text, max_size=3)
step_number = st.one_of(st.just("follow"), st.just("follow"), st.just("follow"), st.none(),
                        st.integers(-3, 40).map(str), weird_text, st.just("99999999999999999999999"))
voice_step = st.fixed_dictionaries({"digits": digits, "speech": speech, "n": step_number, "extra": twilio_extra})


class Call:
    """One call, its steps posted as Twilio would, with the caller's parameters chosen by the test."""

    def __init__(self, app, sid: str, caller: str | None):
        self.app, self.client, self.sid, self.caller = app, app.test_client(), sid, caller
        self.next_n: str | None = None

    def post(self, digits=None, said=None, n="follow", extra=None):
        params = {**(extra or {}), "CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "To": "+33900003422"}
        if self.caller is not None:
            params["From"] = self.caller
        if digits is not None:
            params["Digits"] = digits
        if said is not None:
            params["SpeechResult"] = said
        if n == "follow":
            n = self.next_n
        path = "/ivr/voice" + ("" if n is None else "?n=" + quote(n, safe=""))
        response = signed_post(self.app, self.client, path, params)
        assert response.status_code < 500
        if not sid_ok(self.sid):
            assert response.status_code == 400
        else:
            assert response.status_code == 200, response.status_code
        root = twiml(response)
        for element in root.iter():
            assert element.tag in VOICE_VERBS, element.tag
        gather = root.find("Gather")
        if gather is not None:
            match = re.fullmatch(r"/ivr/voice\?n=(\d+)", gather.get("action", ""))
            assert match, gather.get("action")
            self.next_n = match.group(1)
        return root


@examples(50)
@given(sid=call_sid, caller=st.one_of(st.none(), phone), steps=st.lists(voice_step, min_size=1, max_size=12))
def test_an_unidentified_caller_pressing_anything_gets_twiml_and_changes_nothing(app, world, sid, caller, steps):
    world("notified")
    call = Call(app, sid, caller)
    before = snapshot(app)
    with ErrorLog() as errors:
        call.post(n=None)  # the call comes in
        for step in steps:
            call.post(step["digits"], step["speech"], step["n"], step["extra"])
            assert_unchanged(before, snapshot(app), f"by the voice step {step!r}")
    assert not errors.records, errors.text()


identified_step = st.fixed_dictionaries({
    "digits": st.one_of(st.just("1"), st.just("1"), st.sampled_from(["1", "2", "3", "4", "9", "*", "0", "1#"]),
                        short_keys, short_keys, keypad, st.none(), weird_text),
    "speech": st.one_of(st.none(), st.none(), st.none(), speech),
    "n": st.one_of(st.just("follow"), st.just("follow"), st.just("follow"), st.just("follow"), step_number),
    "extra": st.just({})})


@examples(40)
@given(state=st.sampled_from(["notified", "active", "closed"]), steps=st.lists(identified_step, max_size=15))
def test_an_identified_caller_pressing_anything_makes_one_change_at_most_per_step_with_its_receipt(
        app, world, state, steps):
    w = world(state)
    caller = Caller(app, caller=PHONE_H).start().silence().press("1").identify(w.h)
    call = Call(app, caller.sid, PHONE_H)
    call.next_n = re.search(r"n=(\d+)", caller.action or "n=0").group(1) if caller.action else None
    actions = 0
    with ErrorLog() as errors:
        for step in steps:
            before = snapshot(app)
            call.post(step["digits"], step["speech"], step["n"], step["extra"])
            after = snapshot(app)
            changed = changed_tables(before, after)
            records = len(after["action_record"]) - len(before["action_record"])
            assert records in (0, 1), describe_change(before, after)
            if changed - {"action_record"}:
                assert records == 1, f"a change without its receipt:\n{describe_change(before, after)}"
            assert "person" not in changed and "access_event" not in changed, describe_change(before, after)
            actions += records
    event(f"{actions} action(s) in the call")
    assert not errors.records, errors.text()


# --- SMS ---------------------------------------------------------------------------------------------------

command_words = st.sampled_from(sorted(WORDS) + ["pour", "for", "on", "off", "oui", "non", "supprimer", "1", "2"])
sms_body = st.one_of(
    weird_text, weird_text,
    st.lists(st.one_of(command_words, command_words, weird_text), min_size=1, max_size=5).map(" ".join),
    st.builds(lambda code, rest: f"{code} {rest}", st.text(st.sampled_from("0123456789"), min_size=6, max_size=6),
              st.one_of(weird_text, st.sampled_from(["25031950", "25/03/1950", "AAAAAAAAAAAA"]))),
)


def words_of_sms(body: str) -> list[str]:
    return " ".join(fold(body).replace("-", " ").split())[:320].split()


@examples(100)
@given(data=st.data(), sender=phone, body=st.one_of(st.none(), sms_body), sid=message_sid,
       extra=twilio_extra, pending=st.sampled_from([None, "close", "oppose", "emergency", "reopen", "block", "report",
                                                    "revoke", "sign_in", "no_such_purpose"]))
def test_any_sms_gets_twiml_and_changes_nothing_without_a_confirmed_request(app, world, data, sender, body, sid,
                                                                            extra, pending):
    w = world(data.draw(st.sampled_from(["notified", "active", "closed"])))
    code = None
    # "sign_in" (asked on the web or the phone) and an unknown purpose: issue 10's 500 when answered by SMS
    if pending:  # a request waits for its one-time code: the body may answer it, rightly or not
        with app.app_context():
            code = one_time.issue(PHONE_H, w.h.person_id, pending, waiting(pending, w))
        if data.draw(st.booleans()):
            second = w.h.code if pending == "oppose" else data.draw(st.sampled_from(["25031950", "25/03/1950"]))
            body = f"{code} {data.draw(st.sampled_from([second, second.lower(), 'x' + second]))}"
    params = {**extra, "MessageSid": sid, "AccountSid": "AC" + "0" * 32, "To": "+33900003422", "NumMedia": "0"}
    if sender is not None:
        params["From"] = sender
    if body is not None:
        params["Body"] = body
    client = app.test_client()
    before, everything = snapshot(app), dump_all(app)
    response = signed_post(app, client, "/ivr/sms", params)
    after = snapshot(app)

    assert response.status_code < 500
    twiml(response)
    if not sid_ok(sid):
        assert response.status_code == 400
        assert dump_all(app) == everything, "a refused webhook wrote something"
        return
    assert response.status_code == 200
    registered = sender in REGISTERED
    words = words_of_sms(body or "")
    commands = {WORDS[word][0] for word in words[:4] if word in WORDS}
    confirmed = registered and code is not None and words[:1] == [code]
    changed = changed_tables(before, after)
    event(f"{'registered' if registered else 'unknown'} sender, changed: {sorted(changed)}")
    if not registered:
        assert_unchanged(before, after, f"by an SMS from {sender!r}")
        return
    may_change = set()
    if "history" in commands:
        may_change |= {"action_record", "outbox_message"}
    if "alerts" in commands:  # ALERTES NON, ALERTS ON: a choice of the holder's, with its receipt and audit entry
        may_change |= {"person", "action_record"}
    opted = twilio_word(body or "")  # STOP, START…: Twilio's words; the number's opt-out is recorded, no receipt
    if opted:
        may_change |= {"person"}
    if confirmed and pending not in ("sign_in", "no_such_purpose"):  # those confirm nothing by SMS
        may_change |= {"action_record", "outbox_message", "health_space", "provisional_code", "blocked_professional",
                       "access_report", "mandate"}
    assert changed <= may_change, f"SMS {body!r}:\n{describe_change(before, after)}"
    if "person" in changed:
        [(old, new)] = [(a, b) for a, b in zip(before["person"], after["person"]) if a != b]
        allowed = [column("person", "sms_blocked_at")] if opted else [column("person", "notifications_enabled")]
        assert [i for i, (x, y) in enumerate(zip(old, new)) if x != y] == allowed
    records = len(after["action_record"]) - len(before["action_record"])
    assert records in (0, 1)
    if changed - {"action_record"} - ({"person"} if opted else set()):
        assert records == 1, f"a change without its receipt:\n{describe_change(before, after)}"


PURPOSES = ["close", "oppose", "emergency", "reopen", "block", "report", "revoke", "sign_in", "no_such_purpose"]


def waiting(purpose: str, w, delete: bool = False) -> dict:
    """What a one-time code of this purpose waits to confirm, as the channels store it."""
    request = {"oppose": commands.Oppose(), "close": commands.Close(delete), "reopen": commands.Reopen(),
               "emergency": commands.SetEmergency("samu", False), "block": commands.Block(w.event_ids[0]),
               "report": commands.Report(w.event_ids[0]), "revoke": commands.RemoveHelper(w.helper_mandate_id)
               }.get(purpose)
    if purpose == "sign_in":
        return {}
    return {"subject_id": w.h.person_id, **(commands.to_params(request) if request else {})}


@examples(40)
@given(purpose=st.sampled_from(PURPOSES), retry=st.booleans(), delete=st.booleans(),
       state=st.sampled_from(["notified", "active", "closed"]))
@example(purpose="sign_in", retry=True, delete=False, state="active").via(
    "issue 10: a sign-in code asked on the web and answered by SMS was sent to report_access: KeyError, a 500, "
    "and Twilio's retry got «code pas juste»")
def test_a_right_code_of_any_purpose_answered_by_sms_gets_a_plain_answer_the_same_on_retry(app, world, purpose,
                                                                                          retry, delete, state):
    w = world(state)
    with app.app_context():
        code = one_time.issue(PHONE_H, w.h.person_id, purpose, waiting(purpose, w, delete), "web")
    second = w.h.code if purpose == "oppose" else "25031950"
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "From": PHONE_H, "To": "+33900003422",
              "Body": f"{code} {second}"}
    first = signed_post(app, app.test_client(), "/ivr/sms", params)
    assert first.status_code == 200
    answer = twiml(first).findtext("Message")
    assert answer and answer.startswith("Relais")
    if retry:  # Twilio asks again with the same MessageSid: the same answer, nothing done twice
        again = signed_post(app, app.test_client(), "/ivr/sms", params)
        assert again.status_code == 200 and twiml(again).findtext("Message") == answer


@examples(30)
@given(lookalike=st.sampled_from(DIGIT_LOOKALIKES), purpose=st.sampled_from(["close", "emergency"]))
@example(lookalike="፩", purpose="close").via("found by reading ivr/sms.py: the second factor's date")
def test_a_birth_date_with_a_digit_lookalike_after_a_right_sms_code_is_refused(app, world, lookalike, purpose):
    """'123456 ፩1/01/1901': str.isdigit() says yes, int() says no; NFKD folding of the SMS does not help for '፩'
    (it turns '²' into '2'). Either way this is not the sender's date of birth: refused, nothing changed."""
    w = world("active")
    with app.app_context():
        code = one_time.issue(PHONE_H, w.h.person_id, purpose, waiting(purpose, w))
    before = snapshot(app)
    response = signed_post(app, app.test_client(), "/ivr/sms",
                           {"MessageSid": "SM" + uuid.uuid4().hex, "From": PHONE_H, "To": "+33900003422",
                            "Body": f"{code} {lookalike}1/01/1901"})  # not the date of birth, however read
    assert response.status_code == 200
    twiml(response)
    assert_unchanged(before, snapshot(app))


# --- delivery and call status callbacks -------------------------------------------------------------------

statuses = st.one_of(st.sampled_from(["queued", "accepted", "sending", "sent", "delivered", "read", "undelivered",
                                      "failed", "completed", "busy", "no-answer", "canceled", "in-progress", ""]),
                     weird_text)


@examples(50)
@given(data=st.data(), message_status=st.one_of(st.none(), statuses), call_status=st.one_of(st.none(), statuses),
       extra=twilio_extra)
def test_any_status_callback_answers_204_and_moves_only_the_named_message_forward(app, world, data, message_status,
                                                                                   call_status, extra):
    world("active")
    with app.app_context():
        message = db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)).first()
        message.status, message.provider_id = "sent", "SM" + "a" * 32
        db.session.commit()
        message_id = message.id
    call = Caller(app, caller=PHONE_H).start()  # a call in progress, that the callback may end
    named = data.draw(st.one_of(st.none(), st.just("SM" + "a" * 32), message_sid))
    sid = data.draw(st.one_of(st.none(), st.just(call.sid), call_sid))
    params = dict(extra)
    for key, value in (("MessageSid", named), ("MessageStatus", message_status), ("CallSid", sid),
                       ("CallStatus", call_status)):
        if value is not None:
            params[key] = value
    before = snapshot(app)
    response = signed_post(app, app.test_client(), "/ivr/status", params)
    after = snapshot(app)
    assert response.status_code == 204
    moves = named == "SM" + "a" * 32 and message_status in ("delivered", "read", "undelivered", "failed")
    if not moves:
        assert_unchanged(before, after, f"by the status callback {params!r}")
        return
    assert changed_tables(before, after) == {"outbox_message"}
    [(old, new)] = [(a, b) for a, b in zip(before["outbox_message"], after["outbox_message"]) if a != b]
    assert old[0] == new[0] == message_id and new[column("outbox_message", "status")] in ("delivered", "failed")


# --- forged or unsigned: 403, and not one row written -----------------------------------------------------

@examples(40)
@given(path=st.sampled_from(["/ivr/voice", "/ivr/sms", "/ivr/status", "/ivr/voice?n=1"]),
       params=st.dictionaries(st.sampled_from(["CallSid", "MessageSid", "From", "Body", "Digits", "MessageStatus",
                                               "CallStatus"]), weird_text, max_size=5),
       signature=st.one_of(st.none(), st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
                           st.just(""), st.builds(lambda: uuid.uuid4().hex)),
       signed_for=st.sampled_from(["other params", "other url", "other token"]))
def test_a_forged_or_unsigned_webhook_is_403_and_writes_nothing(app, world, path, params, signature, signed_for):
    world("active")
    if signature is None:  # a real signature, of something else
        url = app.config["PUBLIC_BASE_URL"] + path
        token = app.config["TWILIO_AUTH_TOKEN"]
        if signed_for == "other params":
            signature = RequestValidator(token).compute_signature(url, {**params, "Extra": "1"})
        elif signed_for == "other url":
            signature = RequestValidator(token).compute_signature(url + "x", params)
        else:
            signature = RequestValidator(token + "x").compute_signature(url, params)
    everything = dump_all(app)
    response = app.test_client().post(path, data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert dump_all(app) == everything


@examples(20)
@given(target=st.sampled_from([("/ivr/voice", "CallSid"), ("/ivr/sms", "MessageSid"), ("/ivr/status", "MessageSid"),
                               ("/ivr/status", "CallSid"), ("/ivr/status", "CallStatus")]),
       value=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=10).map(lambda t: "CA" + t + "\x00"))
@example(target=("/ivr/sms", "MessageSid"), value="\x00").via("found by test_any_sms… on PostgreSQL")
@example(target=("/ivr/status", "MessageSid"), value="\x00").via("found by test_any_status_callback… on PostgreSQL")
def test_a_nul_byte_in_a_webhook_parameter_is_not_a_500(app, world, target, value):
    """The SIDs are looked up (and a call status stored) as given: PostgreSQL refuses NUL bytes in text."""
    world("active")
    call = Caller(app, caller=PHONE_H).start()
    path, name = target
    params = {"CallSid": call.sid, "MessageSid": "SM" + uuid.uuid4().hex, "From": PHONE_H, "Body": "aide",
              "CallStatus": "completed", name: value}
    if path == "/ivr/voice":
        params.pop("MessageSid")
    if path == "/ivr/status" and name != "MessageSid":
        params.pop("MessageSid")
    before = snapshot(app)
    response = signed_post(app, app.test_client(), path, params)
    assert response.status_code < 500
    assert_unchanged(before, snapshot(app))
