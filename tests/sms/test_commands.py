"""SMS commands from a registered and an unknown number: read-only answers, one-time-code round trips."""
import re
from datetime import timedelta

import pytest

from app import clock
from app.models import AccessReport, BlockedProfessional, HealthSpace, OutboxMessage, db
from app.services import access
from app.text import GSM7

OTP = re.compile(r"code (\d{6})")


def space(app, holder):
    with app.app_context():
        return db.session.get(HealthSpace, holder.person_id)


def fits(text):
    assert len(text) <= 160 and set(text) <= GSM7, text
    assert "http" not in text.lower()
    return text


def help_in(app, language):
    from flask_babel import force_locale

    from ivr.sms import help_text
    with app.test_request_context(), force_locale(language):
        return help_text()


def test_help_in_both_languages_and_any_case(app, texter, enrol):
    enrol(phone="+33612345678", language="en")
    enrol(phone="+33698765432", language="fr")
    assert "HISTORY" in fits(texter().send("HeLp"))
    assert fits(texter("+33698765432").send("aide")) == help_in(app, "fr")
    assert fits(texter("+33698765432").send("Menu")) == help_in(app, "fr")
    assert "34 22" in fits(texter().send("what is this"))
    assert "HISTORY" in fits(texter("+33611111111").send("help"))  # unknown number, English word


def test_unknown_numbers_learn_nothing(texter, enrol):
    enrol(phone="+33612345678")
    stranger = texter("+33611111111")
    answers = {stranger.send(word) for word in ("HISTORIQUE", "FERMER", "SAMU OFF", "123456 01011950")}
    assert len(answers) == 1 and "ne pouvons pas" in answers.pop()
    assert "34 22" in stranger.send("AIDE")


def test_history_goes_to_a_registered_number_only(app, texter, enrol):
    holder = enrol(days_ago=60)
    with app.app_context():
        access.record_access(access.AccessAttempt(nir=holder.nir, occurred_at=clock.now(), professional_name="Dr Petit",
                                                  profession="Médecin", organisation="Cabinet", mode="normal",
                                                  section="Ordonnances"), "api")
    assert texter().send("historique") == ""
    with app.app_context():
        msg = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.access_event_id.is_(None))).one()
        assert "Dr Petit" in fits(msg.body) and "Ordonnances" not in msg.body


@pytest.mark.parametrize("command,second,check", [
    ("SAMU OFF", "birth", lambda s: s.samu_access is False),
    ("bris de glace off", "birth", lambda s: s.break_glass_access is False),
    ("Fermer", "birth", lambda s: s.state == "closed" and s.deletion_due_on is None),
    ("fermer supprimer", "birth", lambda s: s.state == "closed" and s.deletion_due_on is not None),
])
def test_state_change_after_a_one_time_code_and_the_birth_date(app, texter, enrol, command, second, check):
    holder = enrol(days_ago=60)
    phone = texter()
    ask = fits(phone.send(command))
    code = OTP.search(ask).group(1)
    assert not check(space(app, holder))  # nothing yet
    done = fits(phone.send(f"{code} {holder.birth_date.strftime('%d%m%Y')}"))
    assert re.search(r"\d{3} \d{3} \d{3}", done)
    assert check(space(app, holder))
    again = phone.send(f"{code} {holder.birth_date.strftime('%d%m%Y')}")  # single use
    assert "pas juste" in again


def test_opposition_asks_for_the_letters_code(app, texter, enrol):
    holder = enrol(days_ago=10)
    phone = texter()
    code = OTP.search(phone.send("OPPOSER")).group(1)
    assert "pas juste" in phone.send(f"{code} AAAAAAAAAAAA") and space(app, holder).state == "notified"
    phone.send(f"{code} {holder.code.lower()}")
    assert space(app, holder).state == "opposed"


def test_wrong_codes_five_times_kill_the_code(app, texter, enrol):
    holder = enrol(days_ago=60)
    phone = texter()
    code = OTP.search(phone.send("SAMU OFF")).group(1)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        phone.send(f"{wrong} {holder.birth_date.strftime('%d%m%Y')}")
    phone.send(f"{code} {holder.birth_date.strftime('%d%m%Y')}")
    assert space(app, holder).samu_access is True


def test_a_code_expires_after_10_minutes(app, texter, enrol):
    holder = enrol(days_ago=60)
    phone = texter()
    start = clock.now()
    clock.freeze(start)
    code = OTP.search(phone.send("SAMU OFF")).group(1)
    clock.freeze(start + timedelta(minutes=11))
    phone.send(f"{code} {holder.birth_date.strftime('%d%m%Y')}")
    assert space(app, holder).samu_access is True


def test_at_most_three_codes_in_15_minutes(texter, enrol):
    enrol(days_ago=60)
    phone = texter()
    for _ in range(3):
        assert OTP.search(phone.send("SAMU OFF"))
    assert "trop de codes" in fits(phone.send("SAMU OFF"))


def test_a_new_code_replaces_the_previous_request(app, texter, enrol):
    holder = enrol(days_ago=60)
    phone = texter()
    first = OTP.search(phone.send("SAMU OFF")).group(1)
    OTP.search(phone.send("BRIS OFF")).group(1)
    phone.send(f"{first} {holder.birth_date.strftime('%d%m%Y')}")
    assert space(app, holder).samu_access is True  # the first request no longer counts


def test_answer_a_notification_to_block_or_report(app, texter, enrol):
    holder = enrol(days_ago=60)
    with app.app_context():
        access.record_access(access.AccessAttempt(nir=holder.nir, occurred_at=clock.now(),
                                                  professional_name="Dr Inconnu", profession="Médecin",
                                                  organisation="Clinique", mode="normal", section="Ordonnances",
                                                  professional_id="10109999999"), "api")
    phone = texter()
    ask = fits(phone.send("BLOQUER"))
    assert "Dr Inconnu" in ask
    phone.send(f"{OTP.search(ask).group(1)} {holder.birth_date.strftime('%d%m%Y')}")
    ask = phone.send("signaler")
    done = phone.send(f"{OTP.search(ask).group(1)} {holder.birth_date.strftime('%d%m%Y')}")
    with app.app_context():
        assert db.session.scalar(db.select(BlockedProfessional.professional_name)) == "Dr Inconnu"
        reference = db.session.scalar(db.select(AccessReport.reference))
    assert f"{reference[:3]} {reference[3:6]} {reference[6:]}" in done


def test_alerts_off_and_on(app, texter, enrol):
    holder = enrol(days_ago=60, language="en")
    phone = texter()
    assert "ALERTS ON" in fits(phone.send("ALERTS OFF"))
    with app.app_context():
        access.record_access(access.AccessAttempt(nir=holder.nir, occurred_at=clock.now(), professional_name="Dr A",
                                                  profession="M", organisation="O", mode="normal", section="S"), "api")
        assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 0
    assert "again" in phone.send("alerts on")
    with app.app_context():
        access.record_access(access.AccessAttempt(nir=holder.nir, occurred_at=clock.now(), professional_name="Dr B",
                                                  profession="M", organisation="O", mode="normal", section="S"), "api")
        assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 1


def test_a_retried_sms_webhook_is_answered_once(app, texter, enrol):
    holder = enrol(days_ago=60)
    phone = texter()
    code = OTP.search(phone.send("SAMU OFF")).group(1)
    first = phone.send(f"{code} {holder.birth_date.strftime('%d%m%Y')}", sid="SM" + "a" * 32)
    second = phone.send(f"{code} {holder.birth_date.strftime('%d%m%Y')}", sid="SM" + "a" * 32)
    assert first == second and re.search(r"\d{3} \d{3} \d{3}", second)


def test_unsigned_sms_is_refused(app, enrol):
    response = app.test_client().post("/ivr/sms", data={"MessageSid": "SM1", "From": "+33612345678", "Body": "STOP"})
    assert response.status_code == 403
