"""Every access is told to the holder at once, through the outbox, by the real twilio client to a fake Twilio."""
import re
from datetime import timedelta

from app import clock, outbox
from app.models import OutboxMessage, db
from app.services import Actor, access, spaces
from app.text import GSM7


def record(app, holder, **extra):
    values = dict(nir=holder.nir, occurred_at=clock.now(), professional_name="Dr Claire Petit",
                  profession="Médecin généraliste", organisation="Cabinet du Parc", mode="normal",
                  section="Compte rendu d'hospitalisation", reason=None)
    values.update(extra)
    with app.app_context():
        return access.record_access(access.AccessAttempt(**values), "api")[1]


def send(app):
    with app.app_context():
        return outbox.send_due()


def test_one_sms_per_access_in_the_holders_language_without_the_document(app, enrol, twilio):
    fr, en = enrol(days_ago=60, phone="+33612345678"), enrol(days_ago=60, phone="+33698765432", language="en")
    record(app, fr, event_id="1")
    record(app, en, event_id="2")
    record(app, en, event_id="2")  # the same event again: no second SMS
    assert send(app) == 2
    bodies = {m["To"]: m["Body"] for m in twilio.sent}
    assert len(twilio.sent) == 2
    assert "a ouvert votre espace santé" in bodies["+33612345678"]
    assert "opened your health space" in bodies["+33698765432"]
    for body in bodies.values():
        assert "hospitalisation" not in body and "http" not in body.lower() and "code" not in body.lower()
        assert len(body) <= 160 and set(body) <= GSM7 and re.search(r"Ref \d{3} \d{3} \d{3}$", body)
    assert all(m["From"] == "+33900003422" for m in twilio.sent)
    with app.app_context():
        assert {m.status for m in db.session.scalars(db.select(OutboxMessage))} == {"sent"}
        assert {m.provider_id for m in db.session.scalars(db.select(OutboxMessage))} == {m["sid"] for m in twilio.sent}


def test_emergency_access_says_so_and_gives_the_reason(app, enrol, twilio):
    holder = enrol(days_ago=60)
    record(app, holder, mode="break_glass", reason="Patient inconscient aux urgences", event_id="e")
    send(app)
    body = twilio.sent[0]["Body"]
    assert "URGENCE" in body and "Patient inconscient" in body


def test_refused_access_is_told_too(app, enrol, twilio):
    holder = enrol(days_ago=60, language="en")
    with app.app_context():
        spaces.set_emergency_access(Actor(holder.person_id, "web"), holder.person_id, "samu", False)
    record(app, holder, mode="samu", reason="Malaise", event_id="s")
    send(app)
    assert "was refused" in twilio.sent[-1]["Body"]
    assert "settings are changed" in twilio.sent[0]["Body"]  # the receipt of the web change came first


def test_longest_names_still_fit_one_segment(app, enrol, twilio):
    holder = enrol(days_ago=60)
    long = "Dr Marie-Bénédicte Œillet-Françoise de la Tour-Bâtonnière Saint-Jérôme"
    record(app, holder, professional_name=long, profession="Médecin anesthésiste-réanimateur hospitalier",
           mode="samu", reason="Détresse respiratoire aiguë, patiente inconsciente, aucune personne de confiance",
           event_id="long")
    send(app)
    body = twilio.sent[0]["Body"]
    assert len(body) <= 160 and set(body) <= GSM7


def test_without_a_mobile_a_letter_is_queued_and_exported(app, enrol, tmp_path, twilio):
    holder = enrol(days_ago=60, phone=None)
    record(app, holder, event_id="l")
    assert send(app) == 0 and twilio.sent == []
    out = tmp_path / "letters.html"
    result = app.test_cli_runner().invoke(args=["outbox", "letters", str(out)])
    assert "1 letter(s) written" in result.output
    html = out.read_text(encoding="utf-8")
    assert "Dr Claire Petit" in html and "hospitalisation" not in html
    assert "0 letter(s)" in app.test_cli_runner().invoke(args=["outbox", "letters", str(out)]).output


def test_twilio_down_messages_wait_then_go_once(app, enrol, twilio):
    holder = enrol(days_ago=60)
    twilio.stop()
    record(app, holder, event_id="d")
    assert send(app) == 0
    with app.app_context():
        msg = db.session.scalars(db.select(OutboxMessage)).one()
        assert (msg.status, msg.attempts, msg.last_error is not None) == ("queued", 1, True)
        retry_at = msg.next_attempt_at
    assert send(app) == 0  # not due yet: no hammering
    twilio.start()
    clock.freeze(retry_at + timedelta(seconds=1))
    assert send(app) == 1
    assert send(app) == 0
    assert len(twilio.sent) == 1


def test_a_claimed_message_is_not_sent_by_a_second_worker(app, enrol, twilio):
    holder = enrol(days_ago=60)
    record(app, holder, event_id="c")
    with app.app_context():
        msg_id = db.session.scalar(db.select(OutboxMessage.id))
        assert [claim.id for claim in outbox._claim()] == [msg_id]
        assert outbox._claim() == []  # the other worker loses
        assert outbox.send_due() == 0
    assert twilio.sent == []


def test_stop_notifications(app, enrol, twilio):
    holder = enrol(days_ago=60)
    with app.app_context():
        from app.services import identity
        person = identity.find_person_by_nir(holder.nir)
        person.notifications_enabled = False
        db.session.commit()
    record(app, holder, event_id="n")
    assert send(app) == 0 and twilio.sent == []


def test_delivery_status_callback_is_recorded(app, enrol, twilio, call):
    holder = enrol(days_ago=60)
    record(app, holder, event_id="cb")
    send(app)
    c = call()
    response = c._signed_post("/ivr/status", {"MessageSid": twilio.sent[0]["sid"], "MessageStatus": "delivered",
                                             "AccountSid": "AC" + "1" * 32})
    assert response.status_code == 204
    with app.app_context():
        assert db.session.scalars(db.select(OutboxMessage)).one().status == "delivered"
