"""Twilio's opt-out: STOP and its kin belong to Twilio; Relais records them and writes by letter instead.

A message Twilio refuses (REST error 21610, from the real twilio client against the local fake) or reports failed
or undelivered goes by letter, once, recorded in the audit log and listed by `flask outbox failed`."""
import re
import uuid

import pytest
from flask_babel import force_locale
from twilio.request_validator import RequestValidator

from app import clock, outbox
from app.models import AuditEntry, HealthSpace, OutboxMessage, Person, db
from app.services import Actor, access, identity, spaces

OTP = re.compile(r"code (\d{6})")


def person(app, holder):
    with app.app_context():
        return db.session.get(Person, holder.person_id)


def messages_of(app, holder):
    with app.app_context():
        return db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.person_id == holder.person_id)
                                  .order_by(OutboxMessage.id)).all()


def audited(app, action):
    with app.app_context():
        return db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == action)).all()


def an_access(app, holder, name="Dr Petit"):
    with app.app_context():
        access.record_access(access.AccessAttempt(nir=holder.nir, occurred_at=clock.now(), professional_name=name,
                                                  profession="Médecin", organisation="Cabinet", mode="normal",
                                                  section="Ordonnances"), "api")


def status_callback(app, sid, status):
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "1" * 32}
    url = app.config["PUBLIC_BASE_URL"] + "/ivr/status"
    signature = RequestValidator(app.config["TWILIO_AUTH_TOKEN"]).compute_signature(url, params)
    response = app.test_client().post("/ivr/status", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code in (200, 204)


def no_number_in(entries, *numbers):
    for e in entries:
        text = " ".join(str(x) for x in (e.actor, e.subject, e.action, e.details))
        for number in numbers:
            assert number not in text and number[-9:] not in text, e.action


# --- STOP and START, sent to Relais's number ----------------------------------------------------------------------

def test_stop_is_recorded_answered_with_nothing_and_then_everything_goes_by_letter(app, texter, enrol):
    holder = enrol(days_ago=60, language="en")
    phone = texter()
    assert phone.send("STOP") == ""  # Twilio answers STOP itself
    assert person(app, holder).sms_blocked_at is not None
    assert phone.send("stop") == ""  # again: recorded once
    [entry] = audited(app, "sms.opted_out")
    no_number_in([entry], holder.phone)
    an_access(app, holder)
    with app.app_context():
        spaces.set_emergency_access(Actor(holder.person_id, "web"), holder.person_id, "samu", False)  # a receipt
    assert [m.channel for m in messages_of(app, holder)] == ["letter", "letter"]
    assert "SMS again" in phone.send("START")
    assert person(app, holder).sms_blocked_at is None and len(audited(app, "sms.opted_in")) == 1
    an_access(app, holder, "Dr Roux")
    assert messages_of(app, holder)[-1].channel == "sms"


def test_stop_from_an_unknown_number_changes_nothing_and_says_nothing(app, texter, enrol):
    holder = enrol(days_ago=60)
    stranger = texter("+33611111111")
    assert stranger.send("STOP") == ""
    assert "ne pouvons pas" in stranger.send("START")
    assert person(app, holder).sms_blocked_at is None and not audited(app, "sms.opted_out")


def test_only_the_word_alone_is_twilios(app, texter, enrol):
    holder = enrol(days_ago=60, language="en")
    answer = texter().send("stop please")
    assert answer and "STOP" not in answer
    assert person(app, holder).sms_blocked_at is None


def test_a_retried_stop_is_answered_the_same_way(app, texter, enrol):
    enrol(days_ago=60)
    phone = texter()
    sid = "SM" + uuid.uuid4().hex
    assert phone.send("STOP", sid=sid) == "" and phone.send("STOP", sid=sid) == ""
    assert len(audited(app, "sms.opted_out")) == 1


@pytest.mark.parametrize("language", ["fr", "en"])
def test_no_help_text_invites_stop_or_start(app, language):
    from ivr import sms
    with app.test_request_context(), force_locale(language):
        for text in (sms.help_text(), sms.help_for()):
            assert not re.search(r"\b(STOP|START|ARRET)\b", text), text
            assert len(text) <= 160


# --- Twilio refuses: error 21610 -------------------------------------------------------------------------------

def test_error_21610_blocks_the_number_and_the_message_goes_by_letter_once(app, enrol, twilio):
    holder = enrol(days_ago=60)
    twilio.unsubscribed.add(holder.phone)
    with app.app_context():
        spaces.set_emergency_access(Actor(holder.person_id, "web"), holder.person_id, "samu", False)  # SMS receipt
        assert outbox.send_due() == 0
        assert outbox.send_due() == 0  # nothing retried, nothing twice
    assert len(twilio.refused) == 1 and not twilio.sent
    [sms, letter] = messages_of(app, holder)
    assert (sms.channel, sms.status, sms.last_error) == ("sms", "failed", "21610")
    assert (letter.channel, letter.status, letter.reference, letter.body) == ("letter", "queued", sms.reference,
                                                                              sms.body)
    assert person(app, holder).sms_blocked_at is not None
    entries = audited(app, "sms.blocked") + audited(app, "outbox.letter_instead")
    assert [e.action for e in entries] == ["sms.blocked", "outbox.letter_instead"]
    no_number_in(entries, holder.phone)
    an_access(app, holder)  # from now on, straight by letter
    assert messages_of(app, holder)[-1].channel == "letter"


def test_a_code_refused_by_sms_goes_on_the_letter_sealed_until_printed(app, enrol, twilio):
    import io
    holder = enrol(days_ago=10)
    twilio.unsubscribed.add(holder.phone)
    with app.app_context():
        identity.request_new_code(holder.nir, holder.vitale_serial, holder.birth_date, client="c", channel="web")
        outbox.send_due()
        letter = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.channel == "letter")).one()
        assert letter.sensitive and letter.sealed_body and "*" in letter.body
        code = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", outbox.text_of(letter)).group(0)
        out = io.StringIO()
        assert outbox.export_letters(out) == 1
        assert code in out.getvalue()
        assert db.session.get(OutboxMessage, letter.id).sealed_body is None


# --- Twilio reports failed or undelivered ---------------------------------------------------------------------

def test_an_undelivered_sms_goes_by_letter_once_however_many_callbacks(app, enrol, twilio):
    holder = enrol(days_ago=60)
    with app.app_context():
        spaces.set_emergency_access(Actor(holder.person_id, "web"), holder.person_id, "samu", False)
        assert outbox.send_due() == 1
    [sent] = twilio.sent
    status_callback(app, sent["sid"], "sent")
    status_callback(app, sent["sid"], "undelivered")
    status_callback(app, sent["sid"], "undelivered")  # Twilio retried
    status_callback(app, sent["sid"], "failed")
    status_callback(app, sent["sid"], "delivered")  # late and out of order: never backwards
    [sms, letter] = messages_of(app, holder)
    assert (sms.status, sms.last_error) == ("failed", "undelivered")
    assert (letter.channel, letter.reference, letter.body) == ("letter", sms.reference, sms.body)
    assert person(app, holder).sms_blocked_at is None  # a failure is not an opt-out
    assert len(audited(app, "outbox.letter_instead")) == 1


def test_a_delivered_sms_gets_no_letter(app, enrol, twilio):
    holder = enrol(days_ago=60)
    with app.app_context():
        spaces.set_emergency_access(Actor(holder.person_id, "web"), holder.person_id, "samu", False)
        outbox.send_due()
    status_callback(app, twilio.sent[0]["sid"], "delivered")
    status_callback(app, twilio.sent[0]["sid"], "failed")
    assert [m.status for m in messages_of(app, holder)] == ["delivered"]


def test_a_code_sms_undelivered_after_it_left_gets_a_letter_without_the_code(app, enrol, twilio):
    holder = enrol(days_ago=10, language="en")
    with app.app_context():
        identity.request_new_code(holder.nir, holder.vitale_serial, holder.birth_date, client="c", channel="web")
        outbox.send_due()
    status_callback(app, twilio.sent[0]["sid"], "failed")
    [sms, letter] = messages_of(app, holder)
    assert not letter.sensitive and letter.sealed_body is None
    assert "did not reach you" in letter.body and "34 22" in letter.body
    assert not re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", letter.body)


def test_flask_outbox_failed_lists_each_failure_and_its_letter_with_masked_numbers(app, enrol, twilio):
    holder = enrol(days_ago=60)
    twilio.unsubscribed.add(holder.phone)
    with app.app_context():
        spaces.set_emergency_access(Actor(holder.person_id, "web"), holder.person_id, "samu", False)
        outbox.send_due()
    [sms, letter] = messages_of(app, holder)
    result = app.test_cli_runner().invoke(args=["outbox", "failed"])
    assert result.exit_code == 0, result.output
    assert f"#{sms.id} sms to +33*******78" in result.output and f"letter #{letter.id} queued" in result.output
    assert "21610" in result.output and "1 failed message(s)" in result.output
    assert "612345678" not in result.output


# --- emergency access by SMS, both at once ------------------------------------------------------------------------

def space(app, holder):
    with app.app_context():
        return db.session.get(HealthSpace, holder.person_id)


@pytest.mark.parametrize("text,birth", [("URGENCE NON", "25/03/1950"), ("pas d'urgence", "25 03 1950"),
                                        ("Urgence off", "25031950"), ("NO EMERGENCY", "25 mars 1950")])
def test_emergency_off_switches_both_accesses_off_after_the_code(app, texter, enrol, text, birth):
    holder = enrol(days_ago=60)
    phone = texter()
    ask = phone.send(text)
    assert len(ask) <= 160 and OTP.search(ask)
    s = space(app, holder)
    assert s.samu_access and s.break_glass_access  # nothing yet
    done = phone.send(f"{OTP.search(ask).group(1)} {birth}")
    assert len(re.findall(r"\d{3} \d{3} \d{3}", done)) == 2 and len(done) <= 160
    s = space(app, holder)
    assert (s.samu_access, s.break_glass_access, s.masked_in_emergency) == (False, False, False)
    assert len(audited(app, "emergency.samu.off")) == len(audited(app, "emergency.break_glass.off")) == 1
    ask = phone.send("URGENCE OUI")
    phone.send(f"{OTP.search(ask).group(1)} {birth}")
    s = space(app, holder)
    assert s.samu_access and s.break_glass_access


def test_emergency_off_for_someone_one_represents_fits_one_sms(app, texter, enrol):
    from datetime import date

    from app.services.mandates import import_mandate
    rep = enrol(days_ago=60, language="en", given_name="Bartholomew-Alexander", family_name="Montgomery-Smithson")
    child = enrol(days_ago=60, phone=None, birth_date=date(2015, 5, 1), given_name="Maximilienne-Charlotte",
                  family_name="de La Tour d'Auvergne")
    with app.app_context():
        import_mandate(rep.nir, child.nir, "parent", date(2015, 5, 1), None)
    ask = texter().send("FOR MAXIMILIENNE EMERGENCY OFF")
    assert len(ask) <= 160 and ask.endswith("anyone."), ask
    done = texter().send(f"{OTP.search(ask).group(1)} 25/03/1950")
    assert len(re.findall(r"\d{3} \d{3} \d{3}", done)) == 2
    s = space(app, child)
    assert (s.samu_access, s.break_glass_access) == (False, False)


def test_one_setting_at_a_time_still(app, texter, enrol):
    holder = enrol(days_ago=60, language="en")
    phone = texter()
    phone.send(f"{OTP.search(phone.send('BREAK GLASS OFF')).group(1)} 25/03/1950")
    s = space(app, holder)
    assert (s.samu_access, s.break_glass_access) == (True, False)
    assert "ON or OFF" in phone.send("SAMU")  # a plain answer, nothing changed
    assert space(app, holder).samu_access


def test_a_wrong_date_changes_nothing(app, texter, enrol):
    holder = enrol(days_ago=60)
    phone = texter()
    code = OTP.search(phone.send("URGENCE NON")).group(1)
    assert "pas juste" in phone.send(f"{code} 31/02/1950")
    assert space(app, holder).samu_access and space(app, holder).break_glass_access


# --- said on the next visit and the next call, with START ------------------------------------------------------

def test_after_stop_the_next_visit_and_the_next_call_say_so_and_explain_start(app, texter, enrol, call):
    from tests.conftest import User
    holder = enrol(days_ago=60, language="en")
    texter(holder.phone).send("STOP")
    page = User(app.test_client(), "en").identify(holder)
    assert "STOP was sent from it" in page.text and "send START" in page.text
    with app.app_context():
        code = identity._issue_code(identity.find_person_by_nir(holder.nir), clock.today())
        db.session.commit()
    again = holder.__class__(**{**holder.__dict__, "code": code})
    an_access(app, holder)
    c = call(caller=holder.phone).start().press("9").press("3").identify(again)
    told = [s for s in c.said if s.startswith("Your number no longer receives our SMS")]
    assert len(told) == 1 and "START" in told[0]
    assert "To get it by post, press 3." in c.last  # the history by post: no SMS to a blocked number
    texter(holder.phone).send("START")
    with app.app_context():
        code = identity._issue_code(identity.find_person_by_nir(holder.nir), clock.today())
        db.session.commit()
    page = User(app.test_client(), "en").identify(holder.__class__(**{**holder.__dict__, "code": code}))
    assert "STOP was sent from it" not in page.text


def test_a_blocked_number_is_not_sent_a_sign_in_code_by_sms(app, texter, enrol):
    holder = enrol(days_ago=60, language="en")
    texter(holder.phone).send("STOP")
    with app.app_context():
        identity.send_sign_in_code(holder.nir, holder.vitale_serial, holder.birth_date, client="test", channel="web")
        assert not db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.channel == "sms")).all()


def test_a_spent_code_does_not_offer_the_sms_sign_in_to_a_blocked_number(app, texter, enrol):
    """Found in w3m: after STOP, the page for a used code still offered «M'envoyer un code par SMS»."""
    from tests.conftest import User
    holder = enrol(days_ago=60, language="en")
    User(app.test_client(), "en").identify(holder)  # the code is used
    texter(holder.phone).send("STOP")
    page = User(app.test_client(), "en").identify(holder)
    assert "already been used" in page.text
    assert "Send me a code by SMS" not in page.text and "Send me a new code" in page.text
