"""Parallel bursts of real HTTP requests against a real server: the limits hold when the requests arrive
together, not only one after another — guesses counted, one-time codes spent, events and SMS handled once.

Each burst leaves from threads behind a barrier (tests/security/realserver.py), on SQLite and on PostgreSQL.
"""
import re
from collections import Counter

import pytest
import requests
from twilio.request_validator import RequestValidator

from app import outbox
from app.domain import identifiers
from app.models import (
    AccessEvent,
    ActionRecord,
    AuditEntry,
    InboundMessage,
    OneTimeCode,
    OutboxMessage,
    ProvisionalCode,
    Throttle,
    db,
)
from app.services import identity
from tests.security.realserver import (
    TIMEOUT,
    Browser,
    burst,
    live_server,  # noqa: F401
)

LOCKED = "Too many attempts"


def _count(app, *where, model=AuditEntry) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))


def _audited(app, action: str) -> int:
    return _count(app, AuditEntry.action == action)


def _kinds(pages) -> Counter:
    """The answers by kind, for failure messages: (status, heading, start of the first error)."""
    return Counter((p.status, p.h1, p.errors[0][:40] if p.errors else "") for p in pages)


def _wrong_letter_code(right: str) -> str:
    code = identifiers.generate_provisional_code()
    while code == right:
        code = identifiers.generate_provisional_code()
    return code


# --- A. guessing the letter's code, 30 guesses at once --------------------------------------------

def test_thirty_guesses_at_once_check_five_and_lock_the_rest(app, enrol, live_server):  # noqa: F811
    holder = enrol(days_ago=10)
    wrong = {**holder.form(), "code": _wrong_letter_code(holder.code)}
    n, allowed = 30, app.config["BACKOFF_AFTER_FAILURES"]

    def prepare(i):  # each guess from a fresh session: its own cookie and form token
        b = Browser(live_server, "en")
        return b, b.get("/identify")

    pages = burst(n, prepare, lambda i, bp: bp[0].submit(bp[1], wrong))

    statuses = Counter(p.status for p in pages)
    checked = _audited(app, "identification.failed")
    refused = sum("do not match" in p.text for p in pages)
    locked = sum(LOCKED in p.text for p in pages)
    with app.app_context():
        row = db.session.get(Throttle, identity._keys(holder.nir, "x")[0])
        failures = row.failures if row else None
    seen = (f"answers {dict(statuses)}; {checked} guesses checked, {refused} told 'do not match', "
            f"{locked} told locked; throttle failures {failures}")
    assert statuses == {200: n}, seen  # never a 500
    assert all(p.h1 == "Identify yourself" for p in pages), _kinds(pages)
    assert checked == refused == allowed, seen  # exactly BACKOFF_AFTER_FAILURES guesses checked
    assert locked == n - allowed, seen          # the others refused as locked, unchecked
    assert failures == allowed, seen
    # Right after, the right details wait too.
    b = Browser(live_server, "en")
    page = b.submit(b.get("/identify"), holder.form())
    assert page.status == 200 and page.h1 == "Identify yourself" and LOCKED in page.text, page


# --- B. the SMS sign-in code, 12 guesses at once from one session -----------------------------------

def test_twelve_sms_code_guesses_at_once_spend_the_code_after_five_tries(app, enrol, live_server):  # noqa: F811
    holder = enrol(days_ago=60)
    first = Browser(live_server, "en")
    page = first.submit(first.get("/identify/sms"), {"nir": holder.nir, "vitale_serial": holder.vitale_serial,
                                                     "birth_date": holder.form()["birth_date"]})
    assert page.status == 200 and page.h1 == "Enter the code received by SMS", page
    with app.app_context():
        msg = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.person_id == holder.person_id)).one()
        assert msg.sensitive and msg.channel == "sms"
        right = re.search(r"\b(\d{6})\b", outbox.text_of(msg)).group(1)
    n, tries = 12, app.config["OTP_MAX_TRIES"]
    wrong = [f"{(int(right) + k) % 10**6:06d}" for k in range(1, n + 1)]

    def prepare(i):  # the same session (its cookie copied), a form token fetched by each thread
        b = Browser(live_server, "en", cookies=first.http.cookies)
        return b, b.get("/identify/sms/code")

    pages = burst(n, prepare, lambda i, bp: bp[0].submit(bp[1], {"code": wrong[i]}))

    statuses = Counter(p.status for p in pages)
    checked = _audited(app, "otp.checked")
    with app.app_context():
        row = db.session.scalars(db.select(OneTimeCode).where(OneTimeCode.person_id == holder.person_id)).one()
        row_tries, dead = row.tries, row.used_at is not None
    seen = (f"answers {dict(statuses)}; {checked} codes checked; code row tries={row_tries}, "
            f"used_at {'set' if dead else 'not set'}")
    assert statuses == {200: n}, seen  # never a 500
    assert all(p.h1 == "Enter the code received by SMS" for p in pages), _kinds(pages)  # nobody signed in
    assert checked <= tries, seen
    assert (row_tries, dead) == (tries, True), seen
    # Even once any back-off of the NIR is over, the code is dead: the right one is refused.
    with app.app_context():
        db.session.execute(db.delete(Throttle))
        db.session.commit()
    page = first.submit(first.get("/identify/sms/code"), {"code": right})
    assert page.status == 200 and page.h1 == "Enter the code received by SMS", page
    assert any("not right" in e for e in page.errors), page


# --- C. one access event sent 12 times at once -----------------------------------------------------

@pytest.fixture
def operator_key(app):
    saved = app.config["OPERATOR_API_KEY"]
    app.config["OPERATOR_API_KEY"] = "operator-burst-key"
    yield "operator-burst-key"
    app.config["OPERATOR_API_KEY"] = saved


def test_the_same_event_id_twelve_times_at_once_is_one_event_and_one_message(app, enrol, live_server,  # noqa: F811
                                                                             operator_key):
    holder = enrol(days_ago=60)
    body = {"nir": holder.nir, "occurred_at": "2026-11-20T10:15:00+01:00", "professional_name": "Dr Claire Petit",
            "profession": "Médecin généraliste", "organisation": "Cabinet du Parc", "mode": "normal",
            "section": "Ordonnances", "reason": None, "event_id": "burst-1"}
    n = 12

    def fire(i, http):
        r = http.post(live_server + "/api/v1/access-events", json=body,
                      headers={"Authorization": f"Bearer {operator_key}"}, timeout=TIMEOUT)
        is_json = r.headers.get("Content-Type", "").startswith("application/json")
        return r.status_code, r.json() if is_json else r.text[:200]

    answers = burst(n, lambda i: requests.Session(), fire)

    statuses = Counter(status for status, _ in answers)
    decisions = Counter(a["decision"] if isinstance(a, dict) else None for _, a in answers)
    events = _count(app, model=AccessEvent)
    with app.app_context():
        event_ids = db.session.scalars(db.select(AccessEvent.id)).all()
    messages = _count(app, model=OutboxMessage)
    seen = f"answers {dict(statuses)}; decisions {dict(decisions)}; {events} access events, {messages} messages"
    assert set(statuses) <= {200, 201}, seen  # never a 500
    assert decisions == {"granted": n}, seen  # the same decision to every copy
    assert {a["event_id"] for _, a in answers} == {"burst-1"}, answers
    assert events == 1, seen
    assert messages == 1, seen
    assert _count(app, OutboxMessage.access_event_id == event_ids[0], model=OutboxMessage) == 1, seen


# --- D. asking for a new letter code 20 times at once -----------------------------------------------

def test_twenty_new_code_requests_at_once_issue_three_codes_at_most(app, enrol, live_server):  # noqa: F811
    holder = enrol(days_ago=10)
    details = {"nir": holder.nir, "vitale_serial": holder.vitale_serial, "birth_date": holder.form()["birth_date"]}
    n = 20
    cap = app.config.get("NEW_CODE_PER_15_MINUTES", 3)  # the per-person cap (and NEW_CODE_PER_DAY = 10)

    def prepare(i):
        b = Browser(live_server, "en")
        return b, b.get("/code/new")

    pages = burst(n, prepare, lambda i, bp: bp[0].submit(bp[1], details))

    statuses = Counter(p.status for p in pages)
    sent = _count(app, OutboxMessage.person_id == holder.person_id, model=OutboxMessage)
    issued = _count(app, ProvisionalCode.person_id == holder.person_id, model=ProvisionalCode) - 1  # - the letter's
    voided = _count(app, ProvisionalCode.person_id == holder.person_id, ProvisionalCode.voided_at.is_not(None),
                    model=ProvisionalCode)
    seen = f"answers {dict(statuses)}; {sent} messages sent, {issued} codes issued, {voided} voided"
    assert statuses == {200: n}, seen  # never a 500
    # Each request counts against the NIR before its work (as a guess would), so a burst may also meet the
    # pause: the same for a NIR that matches and one that does not, so it says nothing of the person.
    kinds = Counter("sent" if p.h1 == "Your request is recorded" else "paused" if "Too many attempts" in p.text
                    else p.h1 for p in pages)
    assert set(kinds) <= {"sent", "paused"} and kinds["sent"] >= 1, _kinds(pages)
    assert 1 <= issued <= cap and voided <= cap, f"{seen}: at most {cap} new codes in 15 minutes"
    assert sent == issued, seen  # each code issued is sent, once


# --- E. one SMS command delivered 12 times at once by Twilio ----------------------------------------

def test_the_same_sms_twelve_times_at_once_is_answered_the_same_and_sent_once(app, enrol, live_server):  # noqa: F811
    holder = enrol(days_ago=60)
    params = {"MessageSid": "SM" + "b" * 32, "AccountSid": "AC" + "0" * 32, "From": holder.phone,
              "To": "+33900003422", "Body": "HISTORIQUE", "NumMedia": "0"}
    # Twilio signs the public URL, not the live server's address.
    signature = RequestValidator(app.config["TWILIO_AUTH_TOKEN"]).compute_signature(
        app.config["PUBLIC_BASE_URL"] + "/ivr/sms", params)
    n = 12

    def fire(i, http):
        r = http.post(live_server + "/ivr/sms", data=params, headers={"X-Twilio-Signature": signature},
                      timeout=TIMEOUT)
        return r.status_code, r.text

    answers = burst(n, lambda i: requests.Session(), fire)

    statuses = Counter(status for status, _ in answers)
    replies = Counter(text for _, text in answers)
    inbound = _count(app, model=InboundMessage)
    receipts = _count(app, ActionRecord.action == "history.sent", model=ActionRecord)
    sent = _count(app, OutboxMessage.person_id == holder.person_id, model=OutboxMessage)
    seen = (f"answers {dict(statuses)}; {len(replies)} different replies; {inbound} inbound messages kept, "
            f"{receipts} history receipts, {sent} messages queued")
    assert statuses == {200: n}, seen  # never a 500
    assert len(replies) == 1, (seen, replies)  # the same answer to every copy
    assert inbound == 1 and receipts == 1, seen
    assert sent == 1, seen  # the history goes once


# --- F. a holder guessing a helper's NIR, twelve times at once ----------------------------------------------

def test_twelve_wrong_helper_look_ups_at_once_count_five_and_pause_the_rest(app, enrol, live_server):  # noqa: F811
    holder = enrol(days_ago=60)
    first = Browser(live_server, "en")
    assert first.submit(first.get("/identify"), holder.form()).status == 200
    n = 12

    def prepare(i):  # the same signed-in session, a form token fetched by each thread
        b = Browser(live_server, "en", cookies=first.http.cookies)
        return b, b.get("/helpers/new")

    wrong = {"nir": "189071305512376", "birth_date": "01/01/1960", "months": "3"}
    pages = burst(n, prepare, lambda i, bp: bp[0].submit(bp[1], wrong))

    assert Counter(p.status for p in pages) == {200: n}, _kinds(pages)  # never a 500
    kinds = Counter("not found" if "We found nobody" in p.text else "paused" if "Too many tries today" in p.text
                    else p.h1 for p in pages)
    assert kinds == {"not found": 5, "paused": n - 5}, kinds
    assert _audited(app, "refused.helper.named") == 5


# --- G. callbacks: the same confirmation twelve times at once; twelve callers booking one number at once -------

def _signed(app, params: dict, path: str) -> dict:
    return {"X-Twilio-Signature": RequestValidator(app.config["TWILIO_AUTH_TOKEN"]).compute_signature(
        app.config["PUBLIC_BASE_URL"] + path, params)}


@pytest.fixture
def out_of_hours(app):
    from datetime import datetime

    from app import clock
    clock.freeze(datetime(2026, 12, 5, 9, 0))  # a Saturday: a callback is offered
    yield
    clock.freeze(None)


def _at_the_callback_confirmation(app, caller: str):
    """A call from `caller` at «We will call you on …»: (the call, the path its answer goes to)."""
    from tests.conftest import Caller
    c = Caller(app, caller=caller).start().press("9").press("0").press("0").press("1")
    assert c.last[0].startswith("We will call you on"), c.last
    return c, c.action


def test_the_same_callback_confirmation_twelve_times_at_once_books_once(app, live_server, out_of_hours):  # noqa: F811
    from app.models import Callback
    c, path = _at_the_callback_confirmation(app, "+33611115555")
    params = c.params(Digits="1")
    n = 12

    def fire(i, http):
        r = http.post(live_server + path, data=params, headers=_signed(app, params, path), timeout=TIMEOUT)
        return r.status_code, r.text

    answers = burst(n, lambda i: requests.Session(), fire)
    statuses = Counter(status for status, _ in answers)
    replies = Counter(text for _, text in answers)
    booked = _count(app, model=Callback)
    seen = f"answers {dict(statuses)}; {len(replies)} different replies; {booked} callbacks booked"
    assert statuses == {200: n}, seen
    import re as _re
    assert len(replies) == 1, (seen, [_re.findall(r">([^<]+)</Say>", r)[:2] for r in replies])
    assert booked == 1 and _audited(app, "callback.requested") == 1, seen


def test_twelve_calls_booking_one_number_at_once_book_two(app, live_server, out_of_hours):  # noqa: F811
    from app.models import Callback
    n, number = 12, "+33611116666"
    calls = [_at_the_callback_confirmation(app, number) for _ in range(n)]

    def fire(i, http):
        c, path = calls[i]
        params = c.params(Digits="1")
        r = http.post(live_server + path, data=params, headers=_signed(app, params, path), timeout=TIMEOUT)
        return r.status_code, r.text

    answers = burst(n, lambda i: requests.Session(), fire)
    statuses = Counter(status for status, _ in answers)
    booked = _count(app, model=Callback)
    refused = sum("already has a callback booked today" in text for _, text in answers)
    seen = f"answers {dict(statuses)}; {booked} callbacks booked, {refused} told the number has its callbacks"
    assert statuses == {200: n}, seen
    assert booked == 2 and refused == n - 2, seen


# --- H. the desk's sign-in: guesses at once, and one authenticator code sent twice at once --------------------

DESK_PASSPHRASE = "violet tramway cinq hérissons"


def _desk_member(app, email: str, secret: str) -> None:
    from app.services import staff
    with app.app_context():
        staff.enrol_demo(email, "agent", "Burst Test", DESK_PASSPHRASE, secret)


def test_twenty_desk_sign_in_guesses_at_once_count_five_and_lock_the_account(app, live_server):  # noqa: F811
    import pyotp

    from app.models import StaffSession
    secret = pyotp.random_base32()
    _desk_member(app, "burst.guess@staff.example", secret)
    n, allowed = 20, app.config["STAFF_LOCK_AFTER"]

    def prepare(i):
        b = Browser(live_server, "en")
        return b, b.get("/desk/sign-in")

    pages = burst(n, prepare, lambda i, bp: bp[0].submit(bp[1], {
        "email": "burst.guess@staff.example", "passphrase": f"wrong guess number {i}", "code": "000000"}))
    checked = _audited(app, "staff.sign_in_failed")
    locked = sum("paused" in p.text for p in pages)
    assert Counter(p.status for p in pages) == {200: n}, _kinds(pages)
    assert checked == allowed and locked == n - allowed, f"{checked} checked, {locked} locked: {_kinds(pages)}"
    b = Browser(live_server, "en")
    right = b.submit(b.get("/desk/sign-in"), {"email": "burst.guess@staff.example", "passphrase": DESK_PASSPHRASE,
                                              "code": pyotp.TOTP(secret).now()})
    assert "paused" in right.text and _count(app, model=StaffSession) == 0


def test_one_authenticator_code_sent_twelve_times_at_once_opens_one_session(app, live_server):  # noqa: F811
    import pyotp

    from app.models import StaffSession
    secret = pyotp.random_base32()
    _desk_member(app, "burst.replay@staff.example", secret)
    n = 12

    def prepare(i):
        b = Browser(live_server, "en")
        return b, b.get("/desk/sign-in")

    code = pyotp.TOTP(secret).now()
    pages = burst(n, prepare, lambda i, bp: bp[0].submit(bp[1], {
        "email": "burst.replay@staff.example", "passphrase": DESK_PASSPHRASE, "code": code}))
    assert sum(p.h1 == "Help a person" for p in pages) == 1, _kinds(pages)
    assert _count(app, model=StaffSession) == 1


def test_twelve_advisers_taking_one_callback_at_once_give_it_to_one(app, live_server):  # noqa: F811
    from datetime import date, datetime

    import pyotp

    from app import clock
    from app.models import Callback
    from app.services import Actor, callbacks
    clock.freeze(datetime(2026, 11, 30, 9, 0))  # a Monday, 10:00 in Paris: its afternoon is offered
    try:
        with app.app_context():
            callbacks.request(Actor(None, "voice"), "06 12 34 56 78", date(2026, 11, 30), "pm", goal=None,
                              language="fr", key="burst-take")
    finally:
        clock.freeze(None)
    n = 12
    secrets_ = [pyotp.random_base32() for _ in range(n)]
    for i, secret in enumerate(secrets_):
        _desk_member(app, f"burst.take{i}@staff.example", secret)

    def prepare(i):
        b = Browser(live_server, "en")
        b.submit(b.get("/desk/sign-in"), {"email": f"burst.take{i}@staff.example", "passphrase": DESK_PASSPHRASE,
                                          "code": pyotp.TOTP(secrets_[i]).now()})
        return b, b.get("/desk/callbacks")

    pages = burst(n, prepare, lambda i, bp: bp[0].submit(bp[1]))  # «Take this callback», the page's last form
    assert sum("The callback is yours" in p.text for p in pages) == 1, _kinds(pages)
    assert sum("Another adviser has taken" in p.text for p in pages) == n - 1, _kinds(pages)
    with app.app_context():
        assert db.session.scalar(db.select(Callback.staff_id)) is not None
        assert _audited(app, "callback.taken") == 1
