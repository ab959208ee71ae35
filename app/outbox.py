"""Database outbox: messages are queued in the action's transaction and sent later, once each."""
import atexit
import logging
import os
import secrets
import smtplib
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import parseaddr
from html import escape

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from . import audit, clock
from .models import OutboxMessage, Person, db
from .sealed import mask as mask_secret
from .sealed import seal, unseal
from .text import gsm7

log = logging.getLogger("relais.outbox")
# The Twilio library logs each request it makes at INFO, a look-up's query string (To=+33…) included, and ~11
# lines a message: kept to its warnings, the log holds no number (and a worker spends less CPU on it).
_TWILIO_LOG = logging.getLogger("relais.outbox.twilio")
_TWILIO_LOG.setLevel(logging.WARNING)
# urllib3 (under the Twilio client) logs each URL at DEBUG, the same query string with it: never below INFO.
logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)
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
    msg = OutboxMessage(**_row(person, body, reference, secret, channel, access_event_id, to, language))
    db.session.add(msg)
    wake_workers()
    return msg


def write(person, body: str, reference: str, *, channel: str | None = None, access_event_id: int | None = None
          ) -> None:
    """queue(), written at once by one prebuilt INSERT instead of the session's unit of work: for the paths that
    never read the message back (an access notice, in the decision API's path: the unit of work's flush of one
    row cost more CPU than PostgreSQL takes to write it)."""
    db.session.execute(_INSERT, _row(person, body, reference, None, channel, access_event_id, None, None))
    wake_workers()


_INSERT = OutboxMessage.__table__.insert()


def _row(person, body, reference, secret, channel, access_event_id, to, language) -> dict:
    if to is not None:
        channel = "sms"
    elif channel is None:
        channel = "sms" if person.mobile else "email" if person.email else "letter"
    if channel == "sms" and to is None and person.sms_blocked_at is not None:
        channel = "letter"  # Twilio would refuse it (21610): the letter goes instead
    recipient = mask(to) if to is not None else {"sms": person.mobile, "email": person.email}.get(channel)
    if channel == "sms":
        body, secret = gsm7(body), gsm7(secret) if secret else None
    return {"person_id": person.id if person else None, "channel": channel, "recipient": recipient,
            "language": language or person.language, "body": mask_secret(body, secret) if secret else body,
            "sealed_body": seal(body) if secret else None, "sealed_recipient": seal(to) if to is not None else None,
            "reference": reference, "sensitive": bool(secret), "status": "queued", "next_attempt_at": clock.now(),
            "access_event_id": access_event_id}


def wake_workers() -> None:
    """On PostgreSQL, wake the listening workers (`work`) once the caller's transaction has committed.

    Not a NOTIFY inside the transaction: PostgreSQL serialises the commits of all transactions that NOTIFY (one
    lock for the database, held through the commit's flush); with pgbench on this machine it took 16 writers
    from ~8,000 commits a second to ~1,000. The commit only tells this process's waker, a thread that sends the
    NOTIFY on a connection of its own, one for any number of commits meanwhile. A transaction rolled back wakes
    nobody; a process that dies before its waker has spoken leaves the message to the workers' look every 30 s."""
    session = db.session()
    if session.get_bind().dialect.name == "postgresql":
        session.info["outbox_wake"] = True


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session) -> None:
    if session.info.pop("outbox_wake", False):
        _Waker.of(session.get_bind().url).due.set()


@event.listens_for(Session, "after_rollback")
def _no_wake(session) -> None:
    session.info.pop("outbox_wake", None)


class _Waker:
    """One thread a process (and database) that sends `NOTIFY relais_outbox` after commits that queued messages."""

    _all: dict = {}
    _lock = threading.Lock()

    @classmethod
    def of(cls, url) -> "_Waker":
        key = (os.getpid(), str(url))  # a forked process (gunicorn) starts its own
        with cls._lock:
            if key not in cls._all:
                cls._all[key] = cls(url.set(drivername="postgresql").render_as_string(hide_password=False))
            return cls._all[key]

    def __init__(self, url: str):
        self.url, self.due, self.sending, self.connection = url, threading.Event(), threading.Lock(), None
        threading.Thread(target=self._run, name="outbox-waker", daemon=True).start()
        atexit.register(self._flush)  # a command that queued and ends at once still wakes the workers

    def _run(self) -> None:
        while True:
            self.due.wait()
            self._flush()

    def _flush(self) -> None:
        with self.sending:
            if not self.due.is_set():
                return
            self.due.clear()  # a commit from now on sets it again: its NOTIFY is the next one
            try:
                import psycopg
                if self.connection is None or self.connection.closed:
                    self.connection = psycopg.connect(self.url, autocommit=True)
                self.connection.execute("SELECT pg_notify(%s, '')", (CHANNEL,))
            except Exception as exc:  # noqa: BLE001 - the messages are committed; the workers' look finds them
                log.warning("outbox: the workers could not be woken (%s)", type(exc).__name__)
                self.connection = None


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


def _served(msg: OutboxMessage) -> str | None:
    """The recipient as kept once the message has gone (or failed for good): masked, like a code, since the
    number or address has served (the person's own stays on their record); a letter has none."""
    return mask(msg.recipient) if msg.recipient else None


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
                    http_client=TwilioHttpClient(timeout=c["TWILIO_TIMEOUT"], logger=_TWILIO_LOG))
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
        # the same id each time it is handed over, so that one sent again (in doubt, see below) is one message
        domain = parseaddr(c["MAIL_FROM"])[1].rpartition("@")[2] or "relais.invalid"
        email["Message-ID"] = f"<outbox-{msg.id}-{msg.reference}@{domain}>"
        email.set_content(text_of(msg))
        with smtplib.SMTP(c["SMTP_HOST"], c["SMTP_PORT"], timeout=10) as smtp:
            smtp.send_message(email)
        return "smtp"
    # No carrier configured (the offline demo): the message goes to the log, secrets left out.
    body = "[hidden: carries a code]" if msg.sensitive else msg.body
    log.info("outbox %s #%s to %s ref %s: %s", msg.channel, msg.id, mask(msg.recipient), msg.reference, body)
    return None


# --- claims, leases, fenced sends ----------------------------------------------------------------------------
#
# A worker claims a batch of due messages in one short transaction (on PostgreSQL `FOR UPDATE SKIP LOCKED`, so
# workers side by side take distinct rows), each with a fresh random `claim_token` and a lease; it then sends
# them with no lock held, and records each outcome only where the row still carries its token (the fence): a
# worker whose lease ran out and was taken over records nothing.
#
# A claim whose outcome was never recorded leaves the message "in doubt": still `sending` after its lease (the
# worker died or stalled), or put back `queued` with its token kept (the carrier's answer never came: a timeout,
# a broken connection). Whoever takes a message in doubt asks Twilio first whether it already has it (the
# Messages list, filtered on the number) and only sends when it does not. E-mail offers no such question: a
# message in doubt is sent again with the same Message-ID, which mail systems treat as one message. The log
# (no carrier configured) is written again.
LEASE = timedelta(minutes=15)
BATCH = 50  # messages claimed in one transaction
CHANNEL = "relais_outbox"  # PostgreSQL NOTIFY channel: queue() wakes the listening workers after commit
LOOKUP_SLACK = timedelta(minutes=10)  # clocks of Twilio and of the workers may differ a little
LOOKUP_DEPTH = 200  # the newest messages to a number read when checking whether Twilio has one


@dataclass(frozen=True)
class Claim:
    """One message held by this worker: its id, the token that fences its updates, until when, whether an
    earlier claim may already have handed it to the carrier, and what the carrier needs of it, read at the claim
    (a copy outside any session: no transaction stays open while the carrier is called)."""

    id: int
    token: str
    lease_ends: datetime
    in_doubt: bool
    message: OutboxMessage
    sms_blocked: bool  # queued before its person's number opted out: Twilio would refuse it


def _skip_locked() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _due(now):
    # the same predicate as the partial index ix_outbox_message_due, so that PostgreSQL reads only that index
    return db.and_(OutboxMessage.status.in_(("queued", "sending")), OutboxMessage.channel != "letter",
                   OutboxMessage.next_attempt_at <= now)


def _claim(limit: int = BATCH) -> list[Claim]:
    """Take up to `limit` due messages for this worker in one short transaction, oldest first.

    PostgreSQL: the rows are locked `FOR UPDATE SKIP LOCKED`, so workers claiming at the same moment take
    distinct rows and none waits for another. SQLite has no row locks and serialises writers: each row is taken
    with an UPDATE conditional on what was read, which only one worker can win."""
    now = clock.now()
    token, lease_ends = secrets.token_hex(16), now + LEASE
    seen = db.select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.claim_token).where(
        _due(now)).order_by(OutboxMessage.id).limit(limit)
    claim = dict(status="sending", claim_token=token, claimed_at=now, next_attempt_at=lease_ends,
                 attempts=OutboxMessage.attempts + 1)
    if _skip_locked():
        rows = db.session.execute(seen.with_for_update(skip_locked=True)).all()
        if rows:
            db.session.execute(db.update(OutboxMessage).where(OutboxMessage.id.in_([r.id for r in rows]))
                               .values(**claim).execution_options(synchronize_session=False))
    else:
        rows = [r for r in db.session.execute(seen).all() if db.session.execute(db.update(OutboxMessage).where(
            OutboxMessage.id == r.id, OutboxMessage.status == r.status,
            OutboxMessage.claim_token.is_not_distinct_from(r.claim_token), _due(now)).values(**claim)
            .execution_options(synchronize_session=False)).rowcount]
    in_doubt = {r.id: r.status == "sending" or r.claim_token is not None for r in rows}
    held = db.session.execute(db.select(OutboxMessage, Person.sms_blocked_at).outerjoin(
        Person, db.and_(Person.id == OutboxMessage.person_id, OutboxMessage.channel == "sms")).where(
        OutboxMessage.claim_token == token).order_by(OutboxMessage.id)
        .execution_options(populate_existing=True)).all() if rows else []
    columns = [a.key for a in OutboxMessage.__mapper__.column_attrs]
    claims = [Claim(msg.id, token, lease_ends, in_doubt[msg.id],
                    OutboxMessage(**{k: getattr(msg, k) for k in columns}),
                    blocked_at is not None and msg.sealed_recipient is None) for msg, blocked_at in held]
    db.session.commit()
    if claims:
        log.info("outbox claim %s: %s message(s)%s", token, len(claims),
                 f", {sum(c.in_doubt for c in claims)} in doubt" if any(c.in_doubt for c in claims) else "")
    return claims


def _fenced(claim: Claim, **values) -> bool:
    """Record an outcome only if this worker still holds the message (its token is still on the row)."""
    done = db.session.execute(db.update(OutboxMessage).where(
        OutboxMessage.id == claim.id, OutboxMessage.claim_token == claim.token).values(**values)
        .execution_options(synchronize_session=False))
    if done.rowcount == 1:
        return True
    db.session.rollback()
    log.warning("outbox message #%s: taken over by another worker or removed meanwhile; nothing recorded", claim.id)
    return False


def _release(claims: list[Claim]) -> None:
    """Give back messages not yet tried (this worker's lease is nearly over): another worker takes them now."""
    for claim in claims:
        if _fenced(claim, status="queued", next_attempt_at=clock.now(), attempts=OutboxMessage.attempts - 1,
                   claim_token=claim.token if claim.in_doubt else None):
            db.session.commit()


def send_due(limit: int | None = 100) -> int:
    """Send what is due, batch after batch, until nothing is due or `limit` messages were taken (None: no limit).

    Each message is claimed before it is handed over and its outcome recorded under the claim's token, so no
    two workers send it twice; a carrier failure puts it back in the queue with a growing delay: nothing is
    lost. Returns how many went out (sent, found already at the carrier, or logged)."""
    c = current_app.config
    client = _twilio_client() if c["TWILIO_ACCOUNT_SID"] and c["TWILIO_AUTH_TOKEN"] else None
    # time to ask Twilio and hand a message over (two calls, each up to TWILIO_TIMEOUT to connect and to read)
    margin = timedelta(seconds=max(60, 5 * c["TWILIO_TIMEOUT"]))
    sent, taken = 0, 0
    while limit is None or taken < limit:
        claims = _claim(BATCH if limit is None else min(BATCH, limit - taken))
        if not claims:
            break
        taken += len(claims)
        for i, claim in enumerate(claims):
            if clock.now() + margin > claim.lease_ends:  # a stalled carrier ate the lease: let others go on
                _release(claims[i:])
                break
            sent += _send(claim, client)
    return sent


def work(interval: float | None = None) -> None:
    """The worker (`flask --app app outbox work`): send what is due until nothing is, then wait, forever.

    PostgreSQL: the worker LISTENs on its own connection and wakes when a transaction that queued a message
    commits (`wake_workers`), and anyway every `interval` seconds (default 30) for retries that come due and
    leases that run out. SQLite: it looks every `interval` seconds (default 2)."""
    listener = _listen() if _skip_locked() else None
    interval = interval or (30.0 if listener else 2.0)
    log.info("outbox worker: %s", f"listening on {CHANNEL}, looking anyway every {interval:g} s" if listener
             else f"looking every {interval:g} s")
    while True:
        sent = send_due(limit=None)
        if sent:
            log.info("outbox worker: %s sent", sent)
        if listener is None:
            time.sleep(interval)
            continue
        try:
            for _ in listener.notifies(timeout=interval, stop_after=1):
                pass
            for _ in listener.notifies(timeout=0):  # a burst of commits: one round of sending takes them all
                pass
        except Exception as exc:  # noqa: BLE001 - the connection was lost (a restart): listen again, go on
            log.warning("outbox worker: listening stopped (%s); listening again", type(exc).__name__)
            listener.close()
            time.sleep(1)
            listener = _listen()


def _listen():
    import psycopg
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = psycopg.connect(url, autocommit=True)
    connection.execute(f"LISTEN {CHANNEL}")
    return connection


def _send(claim: Claim, client) -> int:
    msg = claim.message
    if claim.sms_blocked:  # queued before the number opted out: Twilio would refuse it, the letter goes instead
        return _letter_instead(claim, "sms_blocked", block=False)
    try:
        found = _at_twilio(msg, client) if claim.in_doubt and msg.channel == "sms" and client else None
    except Exception as exc:  # noqa: BLE001 - cannot tell whether Twilio has it: ask again later, never send
        return _retry_later(claim, msg, exc, in_doubt=True)
    if found is not None:
        log.info("outbox sms #%s ref %s was already at Twilio (%s): not sent again", msg.id, msg.reference, found.sid)
        return _delivered(claim, msg, found.sid, found.status)
    try:
        provider_id = _deliver(msg, client)
    except TwilioRestException as exc:  # Twilio answered: the message was not created
        if exc.code == UNSUBSCRIBED:  # refused for good: no retry, the number is blocked, a letter instead
            # the person's own number is blocked, not a number given for a callback
            return _letter_instead(claim, str(UNSUBSCRIBED), block=msg.sealed_recipient is None)
        return _retry_later(claim, msg, exc, in_doubt=False)
    except ValueError as exc:  # the recipient cannot be unsealed: nothing was handed over
        return _retry_later(claim, msg, exc, in_doubt=False)
    except Exception as exc:  # noqa: BLE001 - unreachable, timed out, cut off: it may or may not have arrived
        return _retry_later(claim, msg, exc, in_doubt=True)
    return _delivered(claim, msg, provider_id)


def _at_twilio(msg: OutboxMessage, client):
    """The message Twilio already has for `msg` (same number, same text, created since it was queued), or None.

    Not filtered on DateSent: Twilio matches it by day only, and a message still waiting in Twilio's own queue
    has no date_sent yet. Each text carries its reference, so the same text to the same number is this message."""
    text, since = text_of(msg), msg.created_at.replace(tzinfo=timezone.utc) - LOOKUP_SLACK
    for found in client.messages.list(to=_recipient(msg), from_=current_app.config["TWILIO_FROM_NUMBER"],
                                      limit=LOOKUP_DEPTH):
        if found.body == text and found.date_created is not None and found.date_created >= since:
            return found
    return None


def _delivered(claim: Claim, msg: OutboxMessage, provider_id: str | None, carrier_status: str | None = None) -> int:
    if not _fenced(claim, status="sent" if provider_id else "logged", provider_id=provider_id, sent_at=clock.now(),
                   sealed_body=None, sealed_recipient=None, recipient=_served(msg)):
        return 0
    db.session.commit()
    if carrier_status:  # found at Twilio: what it says of it since (delivered, or failed: a letter instead)
        record_delivery(provider_id, carrier_status)
    return 1


def _retry_later(claim: Claim, msg: OutboxMessage, exc: Exception, *, in_doubt: bool) -> int:
    """Back in the queue with a growing delay; `in_doubt` keeps the token, so the next try asks Twilio first."""
    error = type(exc).__name__
    if msg.attempts >= MAX_ATTEMPTS:
        if _fenced(claim, status="failed", last_error=error, sealed_body=None, sealed_recipient=None,
                   recipient=_served(msg)):
            db.session.commit()
            log.warning("outbox %s #%s failed for good after %s attempts", msg.channel, msg.id, msg.attempts)
        return 0
    if _fenced(claim, status="queued", last_error=error, claim_token=claim.token if in_doubt else None,
               next_attempt_at=clock.now() + timedelta(seconds=min(2 ** msg.attempts * 15, 3600))):
        db.session.commit()
    return 0


def _letter_instead(claim: Claim, why: str, *, block: bool) -> int:
    if not _fenced(claim, status="failed", last_error=why[:200]):
        return 0
    msg = db.session.get(OutboxMessage, claim.id, populate_existing=True)
    if block:
        _block_sms(msg.person_id, why)
    fall_back_to_letter(msg, why)
    db.session.commit()
    return 0


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
