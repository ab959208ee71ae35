"""Limits without races: each counter of a limit — per NIR, per calling number, per client — holds when the requests
that count against it arrive at the same moment on a real server, on SQLite and on PostgreSQL.

Every counter is one atomic statement or a locked row (app/services/limits.py): a conditional UPDATE … WHERE count <
most, or SELECT … FOR UPDATE of the counter's row before it is read and written. Each test fires its burst from
threads behind a barrier (tests/security/realserver.py) and checks both what people were told and what the database
counted: a read-then-write counter lets several requests read the same count and all pass.
"""
import re
import threading
from collections import Counter
from datetime import timedelta

import pytest
import requests
from stdnum.fr import nir as stdnum_nir
from twilio.request_validator import RequestValidator

from app import clock
from app.domain.identifiers import keypad_form
from app.models import AuditEntry, OneTimeCode, OutboxMessage, Throttle, db
from app.services import identity, limits
from app.services.crypto import lookup
from tests.conftest import Caller
from tests.security.realserver import (
    TIMEOUT,
    Browser,
    burst,
    live_server,  # noqa: F401
)

LOCKED = "Too many attempts"
WRONG_CODE = "AAAACCCCFFFF"  # a well-formed letter code that is nobody's


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))


def _audited(app, action: str, *where) -> int:
    return _count(app, AuditEntry, AuditEntry.action == action, *where)


def _failures(app, key: str) -> int | None:
    with app.app_context():
        row = db.session.get(Throttle, key)
        return row.failures if row else None


def _keys(app, nir: str, client: str) -> tuple[str, str]:
    """The throttle rows of a NIR and of a client (app/services/identity.py)."""
    with app.app_context():
        return identity._keys(nir, client)


def _nobody(i: int) -> str:
    """A valid NIR that nobody in the tests has (its key computed by python-stdnum)."""
    body = f"2850375112{i:03d}"
    return body + stdnum_nir.calc_check_digits(body)


@pytest.fixture
def settings(app):
    """settings(NAME=value, …): app settings changed for this test only."""
    saved = {}

    def change(**values):
        for name, value in values.items():
            saved.setdefault(name, app.config[name])
            app.config[name] = value
    yield change
    app.config.update(saved)


def _signed(app, path: str, params: dict) -> dict:
    return {"X-Twilio-Signature": RequestValidator(app.config["TWILIO_AUTH_TOKEN"]).compute_signature(
        app.config["PUBLIC_BASE_URL"] + path, params)}


# --- per NIR: guesses from the web and from the phone at once share one count ---------------------------------

def test_guesses_on_one_nir_from_the_web_and_the_phone_at_once_check_five_in_all(app, enrol, live_server):  # noqa: F811
    holder = enrol(days_ago=10)
    allowed, n = app.config["BACKOFF_AFTER_FAILURES"], 12
    # Six calls walked to the code step one after the other (each from its own number), six identification forms
    # fetched; then every last answer leaves at once.
    calls = []
    for i in range(n // 2):
        c = Caller(app, caller=f"+336200000{i:02d}").start().press("9").press("1")
        c.press(holder.nir + "#").press(holder.vitale_serial + "#").press(holder.birth_date.strftime("%d%m%Y") + "#")
        calls.append(c)

    def prepare(i):
        if i < len(calls):
            return requests.Session()
        b = Browser(live_server, "en")
        return b, b.get("/identify")

    def fire(i, prepared):
        if i < len(calls):
            c = calls[i]
            params = c.params(Digits=keypad_form(WRONG_CODE))
            r = prepared.post(live_server + c.action, data=params, headers=_signed(app, c.action, params),
                              timeout=TIMEOUT)
            return "voice", r.status_code, r.text
        b, page = prepared
        page = b.submit(page, {**holder.form(), "code": WRONG_CODE})
        return "web", page.status, page.text

    answers = burst(n, prepare, fire)

    checked = Counter(e.channel for e in _entries(app, "identification.failed"))
    failures = _failures(app, _keys(app, holder.nir, "x")[0])
    told = Counter((channel, "locked" if LOCKED in text else "checked") for channel, _status, text in answers)
    seen = f"statuses {Counter(s for _c, s, _t in answers)}; checked {dict(checked)}; told {dict(told)}; " \
           f"NIR failures {failures}"
    assert {status for _c, status, _t in answers} == {200}, seen  # never a 500, on either channel
    assert sum(checked.values()) == allowed, seen   # the NIR's count is one, whatever the channel
    assert failures == allowed, seen
    assert told["web", "locked"] + told["voice", "locked"] == n - allowed, seen


def _entries(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        entries = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == action)).all()
        for e in entries:
            db.session.expunge(e)
        return entries


# --- per calling number: one-time codes, 3 every 15 minutes ------------------------------------------------------

def test_sign_in_codes_asked_at_once_for_eight_people_sharing_one_mobile_send_three(app, enrol, live_server):  # noqa: F811
    phone = "+33612340000"
    holders = [enrol(days_ago=60, phone=phone) for _ in range(8)]  # a family's one phone: each their own NIR
    cap = app.config["OTP_PER_15_MINUTES"]

    def prepare(i):
        b = Browser(live_server, "en")
        return b, b.get("/identify/sms")

    def fire(i, bp):
        h = holders[i]
        return bp[0].submit(bp[1], {"nir": h.nir, "vitale_serial": h.vitale_serial,
                                    "birth_date": h.form()["birth_date"]})

    pages = burst(len(holders), prepare, fire)

    codes = _count(app, OneTimeCode, OneTimeCode.phone_lookup == _phone_key(app, phone))
    sent = _count(app, OutboxMessage, OutboxMessage.sensitive.is_(True))
    seen = f"{Counter((p.status, p.h1) for p in pages)}; {codes} codes made, {sent} sent"
    # The same page for everyone (it never says whether a code went), and no more codes than the number may get.
    assert all(p.status == 200 and p.h1 == "Enter the code received by SMS" for p in pages), seen
    assert codes == cap == sent, seen
    assert _audited(app, "otp.sent") == cap, seen


def _phone_key(app, phone: str) -> str:
    with app.app_context():
        return lookup("phone", phone)


def test_twelve_sms_commands_at_once_from_one_number_get_three_codes(app, enrol, live_server):  # noqa: F811
    holder = enrol(days_ago=60, language="en")
    cap, n = app.config["OTP_PER_15_MINUTES"], 12
    path = "/ivr/sms"
    messages = [{"MessageSid": f"SM{i:032d}", "AccountSid": "AC" + "0" * 32, "From": holder.phone,
                 "To": "+33900003422", "Body": "SAMU OFF", "NumMedia": "0"} for i in range(n)]  # 12 distinct SMS

    def fire(i, http):
        r = http.post(live_server + path, data=messages[i], headers=_signed(app, path, messages[i]), timeout=TIMEOUT)
        return r.status_code, r.text

    answers = burst(n, lambda i: requests.Session(), fire)

    with_code = sum(bool(re.search(r"code \d{6} to", text)) for _s, text in answers)
    too_many = sum("too many codes were asked" in text for _s, text in answers)
    codes = _count(app, OneTimeCode, OneTimeCode.phone_lookup == _phone_key(app, holder.phone))
    seen = f"statuses {Counter(s for s, _t in answers)}; {with_code} replies with a code, {too_many} told too many; " \
           f"{codes} codes made"
    assert {status for status, _t in answers} == {200}, seen
    assert codes == with_code == cap, seen
    assert too_many == n - cap, seen


# --- per client: failed identifications an hour, and requests that send something an hour ------------------------

def test_wrong_identifications_of_twelve_nirs_at_once_from_one_address_stop_at_its_limit(  # noqa: F811
        app, live_server, settings):  # noqa: F811
    most, n = 5, 12
    settings(IP_FAILURES_PER_HOUR=most)

    def prepare(i):
        b = Browser(live_server, "en")
        return b, b.get("/identify")

    pages = burst(n, prepare, lambda i, bp: bp[0].submit(bp[1], {
        "nir": _nobody(i), "vitale_serial": f"8099999{i:04d}", "birth_date": "01/02/1960", "code": WRONG_CODE}))

    checked = _audited(app, "identification.failed")
    locked = sum(LOCKED in p.text for p in pages)
    client = _failures(app, _keys(app, _nobody(0), "127.0.0.1")[1])
    seen = f"{Counter((p.status, p.h1) for p in pages)}; {checked} checked, {locked} locked; client count {client}"
    assert all(p.status == 200 and p.h1 == "Identify yourself" for p in pages), seen
    assert checked == most == client, seen  # each guess about another NIR: only the address's count stops them
    assert locked == n - most, seen


def test_new_code_requests_for_twelve_nirs_at_once_from_one_address_stop_at_its_limit(  # noqa: F811
        app, live_server, settings):  # noqa: F811
    most, n = 4, 12
    settings(SENDS_PER_CLIENT_HOUR=most)

    def prepare(i):
        b = Browser(live_server, "en")
        return b, b.get("/code/new")

    pages = burst(n, prepare, lambda i, bp: bp[0].submit(bp[1], {
        "nir": _nobody(i), "vitale_serial": f"8099999{i:04d}", "birth_date": "01/02/1960"}))

    handled = _audited(app, "code.renewal_refused")  # nobody's details: refused, after the same work as a send
    locked = sum(LOCKED in p.text for p in pages)
    with app.app_context():
        sends = db.session.get(Throttle, "sends:" + lookup("client", "127.0.0.1")[:56])
        counted = sends.failures if sends else None
    seen = f"{Counter((p.status, p.h1) for p in pages)}; {handled} handled, {locked} locked; counted {counted}"
    assert {p.status for p in pages} == {200}, seen
    assert handled == most == counted, seen
    assert locked == n - most, seen


# --- the counters themselves, from threads with their own connections ---------------------------------------------

def test_twelve_takes_at_once_of_a_limit_of_five_give_five(app):
    n, most = 12, 5  # 12 connections held at once: within the pool's 5 + 10
    limit = limits.Limit("race:take", most, timedelta(hours=1))
    start = threading.Barrier(n, timeout=TIMEOUT)
    results: list[bool] = []
    errors: list[BaseException] = []

    def take():
        try:
            with app.app_context():
                db.session.execute(db.select(1))  # its own connection, open before the barrier
                start.wait()
                ok = limits.take(limit)
            results.append(ok)
        except BaseException as exc:  # noqa: BLE001  (shown by the assertion below)
            start.abort()
            errors.append(exc)

    threads = [threading.Thread(target=take) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(3 * TIMEOUT)
    assert not errors, [e for e in errors if not isinstance(e, threading.BrokenBarrierError)] or errors
    assert Counter(results) == {True: most, False: n - most}
    assert _failures(app, "race:take") == most
    with app.app_context():  # a window that has run out starts again once, whoever comes first
        db.session.execute(db.update(Throttle).where(Throttle.key == "race:take").values(
            window_started_at=clock.now() - timedelta(hours=2)))
        db.session.commit()
        assert limits.take(limit) and _failures(app, "race:take") == 1
