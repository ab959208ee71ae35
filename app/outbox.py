"""Database outbox: messages are queued in the action's transaction and sent later, once each."""
import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage

from flask import current_app

from . import clock
from .models import OutboxMessage, db

log = logging.getLogger("relais.outbox")
MAX_ATTEMPTS = 12


def queue(person, body: str, reference: str, *, sensitive: bool = False, channel: str | None = None) -> OutboxMessage:
    """Queue a message to a person on their best channel: SMS, else e-mail, else a letter."""
    if channel is None:
        channel = "sms" if person.phone else "email" if person.email else "letter"
    recipient = {"sms": person.phone, "email": person.email}.get(channel)
    if channel == "sms":
        from .messages import gsm7
        body = gsm7(body)
    msg = OutboxMessage(person_id=person.id, channel=channel, recipient=recipient, language=person.language,
                        body=body, reference=reference, sensitive=sensitive, status="queued",
                        next_attempt_at=clock.now())
    db.session.add(msg)
    return msg


def mask(recipient: str | None) -> str:
    if not recipient:
        return "-"
    if "@" in recipient:
        return "***@" + recipient.split("@", 1)[1]
    return recipient[:3] + "*" * max(len(recipient) - 5, 0) + recipient[-2:]


def _twilio_client():
    from twilio.rest import Client
    c = current_app.config
    client = Client(c["TWILIO_ACCOUNT_SID"], c["TWILIO_AUTH_TOKEN"])
    client.api.base_url = c["TWILIO_API_URL"].rstrip("/")
    return client


def _deliver(msg: OutboxMessage, client) -> str | None:
    """Hand one message to its carrier; returns the carrier's id, or None when only logged."""
    c = current_app.config
    if msg.channel == "sms" and client is not None:
        sent = client.messages.create(to=msg.recipient, from_=c["TWILIO_FROM_NUMBER"], body=msg.body)
        return sent.sid
    if msg.channel == "email" and c.get("SMTP_HOST"):
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = c["MAIL_FROM"], msg.recipient, "Relais " + msg.reference
        email.set_content(msg.body)
        with smtplib.SMTP(c["SMTP_HOST"], c["SMTP_PORT"], timeout=10) as smtp:
            smtp.send_message(email)
        return "smtp"
    # No carrier configured (the offline demo): the message goes to the log, secrets left out.
    body = "[hidden: carries a code]" if msg.sensitive else msg.body
    log.info("outbox %s #%s to %s ref %s: %s", msg.channel, msg.id, mask(msg.recipient), msg.reference, body)
    return None


def send_due(limit: int = 100) -> int:
    """Send what is due. Rows are locked (SKIP LOCKED on PostgreSQL) so two workers never send one twice."""
    c = current_app.config
    client = _twilio_client() if c["TWILIO_ACCOUNT_SID"] and c["TWILIO_AUTH_TOKEN"] else None
    sent = 0
    stmt = (db.select(OutboxMessage)
            .where(OutboxMessage.status == "queued", OutboxMessage.channel != "letter",
                   OutboxMessage.next_attempt_at <= clock.now())
            .order_by(OutboxMessage.id).limit(limit).with_for_update(skip_locked=True))
    for msg in db.session.scalars(stmt).all():
        msg.attempts += 1
        try:
            provider_id = _deliver(msg, client)
        except Exception as exc:  # a carrier failure must not lose the message: retry with back-off
            msg.last_error = type(exc).__name__
            if msg.attempts >= MAX_ATTEMPTS:
                msg.status = "failed"
            else:
                msg.next_attempt_at = clock.now() + timedelta(seconds=min(2 ** msg.attempts * 15, 3600))
        else:
            msg.status = "sent" if provider_id else "logged"
            msg.provider_id = provider_id
            msg.sent_at = clock.now()
            sent += 1
        db.session.commit()
    return sent
