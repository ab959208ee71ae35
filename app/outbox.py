"""Database outbox: messages are queued in the action's transaction and sent later, once each."""
import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from html import escape

from flask import current_app
from sqlalchemy.orm.exc import StaleDataError
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from . import audit, clock
from .models import OutboxMessage, Person, db
from .sealed import mask as mask_secret
from .sealed import seal, unseal
from .text import gsm7

log = logging.getLogger("relais.outbox")
MAX_ATTEMPTS = 12
UNSUBSCRIBED = 21610  # Twilio's REST error: the number opted out (STOP…) and gets no SMS until START


def queue(person, body: str, reference: str, *, secret: str | None = None, channel: str | None = None,
          access_event_id: int | None = None, to: str | None = None, language: str | None = None) -> OutboxMessage:
    """Queue a message to a person on their best channel: SMS, else e-mail, else a letter.

    A person whose number opted out at Twilio (`sms_blocked_at`) is written to by letter instead of SMS.
    A message that carries a secret (a code) is stored with the secret masked; the whole text waits
    encrypted (`sealed_body`) until it is handed over, then only the masked text is kept.
    `to`: a mobile number that is not the person's registered phone (person None: a caller not identified),
    sent an SMS in `language`; the number waits encrypted too (`sealed_recipient`) and `recipient` is masked.
    """
    if to is not None:
        channel = "sms"
    elif channel is None:
        channel = "sms" if person.mobile else "email" if person.email else "letter"
    if channel == "sms" and to is None and person.sms_blocked_at is not None:
        channel = "letter"  # Twilio would refuse it (21610): the letter goes instead
    recipient = mask(to) if to is not None else {"sms": person.mobile, "email": person.email}.get(channel)
    if channel == "sms":
        body, secret = gsm7(body), gsm7(secret) if secret else None
    sealed = seal(body) if secret else None
    msg = OutboxMessage(person_id=person.id if person else None, channel=channel, recipient=recipient,
                        language=language or person.language, body=mask_secret(body, secret) if secret else body,
                        sealed_body=sealed, sealed_recipient=seal(to) if to is not None else None,
                        reference=reference, sensitive=bool(secret), status="queued",
                        next_attempt_at=clock.now(), access_event_id=access_event_id)
    db.session.add(msg)
    return msg


def text_of(msg: OutboxMessage) -> str:
    """What the carrier is given: the whole text while it waits, the masked text once it has gone."""
    return unseal(msg.sealed_body) or msg.body


def _recipient(msg: OutboxMessage) -> str | None:
    if msg.sealed_recipient is None:
        return msg.recipient
    number = unseal(msg.sealed_recipient)
    if number is None:  # sealed with another key: never send to the masked number; retried, then failed
        raise ValueError("the recipient cannot be unsealed")
    return number


def _forget_secret(msg: OutboxMessage) -> None:
    msg.sealed_body = None
    msg.sealed_recipient = None


def mask(recipient: str | None) -> str:
    if not recipient:
        return "-"
    if "@" in recipient:
        return "***@" + recipient.split("@", 1)[1]
    return recipient[:3] + "*" * max(len(recipient) - 5, 0) + recipient[-2:]


def _twilio_client():
    c = current_app.config
    # A stalled carrier must not hold a worker: each call to Twilio gives up after TWILIO_TIMEOUT seconds.
    client = Client(c["TWILIO_ACCOUNT_SID"], c["TWILIO_AUTH_TOKEN"],
                    http_client=TwilioHttpClient(timeout=c["TWILIO_TIMEOUT"]))
    client.api.base_url = c["TWILIO_API_URL"].rstrip("/")
    return client


def _deliver(msg: OutboxMessage, client) -> str | None:
    """Hand one message to its carrier; returns the carrier's id, or None when only logged."""
    c = current_app.config
    if msg.channel == "sms" and client is not None:
        callback = c["PUBLIC_BASE_URL"].rstrip("/") + "/ivr/status" if c["PUBLIC_BASE_URL"] else None
        sent = client.messages.create(to=_recipient(msg), from_=c["TWILIO_FROM_NUMBER"], body=text_of(msg),
                                      status_callback=callback)
        return sent.sid
    if msg.channel == "email" and c.get("SMTP_HOST"):
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = c["MAIL_FROM"], msg.recipient, "Relais " + msg.reference
        email.set_content(text_of(msg))
        with smtplib.SMTP(c["SMTP_HOST"], c["SMTP_PORT"], timeout=10) as smtp:
            smtp.send_message(email)
        return "smtp"
    # No carrier configured (the offline demo): the message goes to the log, secrets left out.
    body = "[hidden: carries a code]" if msg.sensitive else msg.body
    log.info("outbox %s #%s to %s ref %s: %s", msg.channel, msg.id, mask(msg.recipient), msg.reference, body)
    return None


# A claim is a lease: a worker that dies while sending leaves its message "sending"; once the lease is over,
# another worker takes it again (at least once: a carrier that had accepted it may then get it twice).
LEASE = timedelta(minutes=15)


def _claimable(now):
    return db.or_(OutboxMessage.status == "queued",
                  db.and_(OutboxMessage.status == "sending", OutboxMessage.next_attempt_at <= now))


def _claim(message_id: int) -> bool:
    """Take one message for this worker: a conditional update only one worker can win, on any database."""
    now = clock.now()
    result = db.session.execute(db.update(OutboxMessage).where(
        OutboxMessage.id == message_id, OutboxMessage.next_attempt_at <= now, _claimable(now))
        .values(status="sending", next_attempt_at=now + LEASE))
    db.session.commit()
    return result.rowcount == 1


def send_due(limit: int = 100) -> int:
    """Send what is due, each message claimed before it is handed over, so no two workers send it twice.

    A carrier failure puts the message back in the queue with a growing delay: nothing is lost.
    """
    c = current_app.config
    client = _twilio_client() if c["TWILIO_ACCOUNT_SID"] and c["TWILIO_AUTH_TOKEN"] else None
    sent = 0
    now = clock.now()
    due = db.session.scalars(db.select(OutboxMessage.id).where(
        _claimable(now), OutboxMessage.channel != "letter",
        OutboxMessage.next_attempt_at <= now).order_by(OutboxMessage.id).limit(limit)).all()
    for message_id in due:
        if not _claim(message_id):
            continue
        msg = db.session.get(OutboxMessage, message_id)
        if msg is None:  # removed since it was listed (a purge): nothing to send
            db.session.rollback()
            continue
        # read before anything is written: no write lock is held while the carrier is called
        person = db.session.get(Person, msg.person_id) if msg.person_id and msg.channel == "sms" else None
        msg.attempts += 1
        try:
            if person is not None and person.sms_blocked_at is not None and msg.sealed_recipient is None:
                # queued before the number opted out: Twilio would refuse it, the letter goes instead
                fall_back_to_letter(msg, "sms_blocked")
                provider_id = None
            else:
                provider_id = _deliver(msg, client)
        except TwilioRestException as exc:
            if exc.code == UNSUBSCRIBED:  # refused for good: no retry, the number is blocked, a letter instead
                if msg.sealed_recipient is None:  # the person's own number, not a number given for a callback
                    _block_sms(msg.person_id, str(UNSUBSCRIBED))
                fall_back_to_letter(msg, str(UNSUBSCRIBED))
            else:
                _retry_later(msg, exc)
        except Exception as exc:  # the carrier is unreachable or refused: try again later
            _retry_later(msg, exc)
        else:
            if msg.status == "sending":
                msg.status = "sent" if provider_id else "logged"
                msg.provider_id = provider_id
                msg.sent_at = clock.now()
                _forget_secret(msg)
                sent += 1
        try:
            db.session.commit()
        except StaleDataError:  # the message disappeared while it was being sent: skip it, go on
            db.session.rollback()
            log.warning("outbox message #%s disappeared while it was sent", message_id)
    return sent


def _retry_later(msg: OutboxMessage, exc: Exception) -> None:
    msg.last_error = type(exc).__name__
    if msg.attempts >= MAX_ATTEMPTS:
        msg.status = "failed"
        _forget_secret(msg)
        log.warning("outbox %s #%s failed for good after %s attempts", msg.channel, msg.id, msg.attempts)
    else:
        msg.status = "queued"
        msg.next_attempt_at = clock.now() + timedelta(seconds=min(2 ** msg.attempts * 15, 3600))


def _block_sms(person_id: int | None, why: str) -> None:
    """Twilio refused an SMS for good (21610): the number opted out, so everything goes by letter from now on.
    A conditional UPDATE: recorded and audited once, however many messages were refused."""
    if person_id is None:
        return
    done = db.session.execute(db.update(Person).where(Person.id == person_id, Person.sms_blocked_at.is_(None))
                              .values(sms_blocked_at=clock.now()))
    if done.rowcount == 1:
        audit.append("system", audit.who(person_id), "sms.blocked", "job", why=why)


def fall_back_to_letter(msg: OutboxMessage, why: str) -> OutboxMessage | None:
    """The SMS `msg` will not arrive: it is marked failed and, when it was a person's, the same message goes by
    letter with the same reference, in the caller's transaction. The caller makes sure it happens once per
    message (its claim, or the conditional UPDATE that marked it failed).

    A code that is still sealed goes on the letter, sealed until printed; a code already forgotten (the SMS had
    left) is not written again: the letter says the SMS did not arrive and gives the reference."""
    msg.status, msg.last_error = "failed", why[:200]
    person = db.session.get(Person, msg.person_id) if msg.person_id else None
    letter = None
    if person is not None:
        if msg.sensitive and msg.sealed_body is None:
            from .messages import sms_not_delivered
            body, sealed, sensitive = sms_not_delivered(person, msg.reference), None, False
        else:
            body, sealed, sensitive = msg.body, msg.sealed_body, msg.sensitive
        letter = OutboxMessage(person_id=person.id, channel="letter", recipient=None, language=msg.language,
                               body=body, sealed_body=sealed, reference=msg.reference, sensitive=sensitive,
                               status="queued", next_attempt_at=clock.now(), access_event_id=msg.access_event_id)
        db.session.add(letter)
        db.session.flush()
    _forget_secret(msg)
    audit.append("system", audit.who(msg.person_id), "outbox.letter_instead", "job", message=msg.id,
                 letter=letter.id if letter else None, reference=msg.reference, why=why[:40])
    log.warning("outbox sms #%s to %s ref %s not delivered (%s): %s", msg.id, mask(msg.recipient), msg.reference,
                why, f"letter #{letter.id}" if letter else "no letter (nobody's registered number)")
    return letter


# Twilio's message statuses as the outbox keeps them; callbacks may arrive out of order, so a status only
# ever moves forward (sent, then delivered or failed).
DELIVERY = {"queued": "sent", "accepted": "sent", "sending": "sent", "sent": "sent", "delivered": "delivered",
            "read": "delivered", "undelivered": "failed", "failed": "failed"}
RANK = {"sent": 1, "delivered": 2, "failed": 2}


def record_delivery(provider_id: str, carrier_status: str | None) -> None:
    """What the carrier reports of a message it was handed, in one conditional update (never backwards).

    A message reported failed or undelivered goes by letter instead: only the callback whose UPDATE moved it
    to failed writes the letter, so repeated or concurrent callbacks give one letter."""
    reported = DELIVERY.get(carrier_status or "")
    if reported is None:
        return
    ahead = [status for status, rank in RANK.items() if rank >= RANK[reported]]
    ids = db.session.scalars(db.select(OutboxMessage.id).where(OutboxMessage.provider_id == provider_id)).all()
    for message_id in ids:
        moved = db.session.execute(db.update(OutboxMessage).where(
            OutboxMessage.id == message_id, OutboxMessage.status.not_in(ahead)).values(status=reported))
        if moved.rowcount == 1 and reported == "failed":
            msg = db.session.get(OutboxMessage, message_id, populate_existing=True)
            if msg.channel == "sms":
                fall_back_to_letter(msg, carrier_status)
    db.session.commit()


def failed(limit: int = 200) -> list[tuple[OutboxMessage, list[OutboxMessage]]]:
    """Failed messages, newest first, each with the letters that went instead (same person, same reference)."""
    rows = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.status == "failed")
                              .order_by(OutboxMessage.id.desc()).limit(limit)).all()
    out = []
    for msg in rows:
        letters = db.session.scalars(db.select(OutboxMessage).where(
            OutboxMessage.channel == "letter", OutboxMessage.reference == msg.reference,
            OutboxMessage.person_id == msg.person_id, OutboxMessage.id > msg.id)
            .order_by(OutboxMessage.id)).all() if msg.person_id else []
        out.append((msg, letters))
    return out


def export_letters(out) -> int:
    """Queued letters as printable HTML, one page each, then marked printed (in one transaction)."""
    letters = db.session.scalars(db.select(OutboxMessage).where(
        OutboxMessage.channel == "letter", OutboxMessage.status == "queued").order_by(OutboxMessage.id)
        .with_for_update()).all()
    out.write('<!doctype html><html lang="fr"><meta charset="utf-8"><title>Relais - courriers</title>'
              "<style>section{page-break-after:always;font:12pt/1.5 serif;margin:2cm}</style>")
    for msg in letters:
        person = db.session.get(Person, msg.person_id)
        out.write(f'<section lang="{msg.language}"><p>{escape(person.given_name)} {escape(person.family_name)}'
                  f"<br>n° {person.id}</p>")
        out.write("".join(f"<p>{escape(line)}</p>" for line in text_of(msg).splitlines()))
        out.write(f"<p>Ref {escape(msg.reference)}</p></section>")
        msg.status, msg.sent_at = "printed", clock.now()
        _forget_secret(msg)
    out.write("</html>")
    db.session.commit()
    return len(letters)
