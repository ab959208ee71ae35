"""SQLAlchemy 2 mapped classes: the control plane of a health space, never medical content."""
from datetime import date, datetime

import phonenumbers
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import clock
from .extensions import db


class Person(db.Model):
    """Who a person is, minimally: the NIR only as a keyed look-up, the Vitale serial only as a keyed hash."""

    __tablename__ = "person"
    id: Mapped[int] = mapped_column(primary_key=True)
    nir_lookup: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    vitale_hash: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20))
    phone_lookup: Mapped[str | None] = mapped_column(String(64), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2), default="fr")
    notifications_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    autonomous_on: Mapped[date | None] = mapped_column(Date)  # a minor recognised autonomous (from 16)
    postal_code: Mapped[str | None] = mapped_column(String(5))  # from the mailing batch, when it has the column
    time_zone: Mapped[str | None] = mapped_column(String(40))   # IANA zone the person lives in; None: Europe/Paris
    sms_blocked_at: Mapped[datetime | None] = mapped_column(DateTime)  # opted out at Twilio (STOP…), or refused
    discreet_notices: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    space: Mapped["HealthSpace"] = relationship(back_populates="person", uselist=False)

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def mobile(self) -> str | None:
        """The phone number if it can receive SMS; a landline cannot (its messages go by post).

        Kept with the number it was worked out from: parsing a number costs more than the rest of queueing a
        message, and a job or a decision asks several times for the same person."""
        known = self.__dict__.get("_mobile_of")
        if known is not None and known[0] == self.phone:
            return known[1]
        mobile = None
        if self.phone:
            kind = phonenumbers.number_type(phonenumbers.parse(self.phone))
            mobile_kinds = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
            mobile = self.phone if kind in mobile_kinds else None
        self.__dict__["_mobile_of"] = (self.phone, mobile)
        return mobile


class HealthSpace(db.Model):
    __tablename__ = "health_space"
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    letter_sent_on: Mapped[date] = mapped_column(Date)
    window_ends_on: Mapped[date] = mapped_column(Date, index=True)
    opposed_at: Mapped[datetime | None] = mapped_column(DateTime)
    activated_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    archive_until: Mapped[date | None] = mapped_column(Date)
    deletion_due_on: Mapped[date | None] = mapped_column(Date)
    purged_at: Mapped[datetime | None] = mapped_column(DateTime)
    samu_access: Mapped[bool] = mapped_column(Boolean, default=True)
    break_glass_access: Mapped[bool] = mapped_column(Boolean, default=True)
    masked_in_emergency: Mapped[bool] = mapped_column(Boolean, default=False)

    person: Mapped[Person] = relationship(back_populates="space")


class ProvisionalCode(db.Model):
    """A letter's code, as keyed hashes of its written and keypad forms (older rows: argon2; docs/secrets.md).

    A code made by the mailing batch import names its batch and line; until its line is safely in the run's
    CODES.csv it also waits sealed (app/sealed.py: the NIR, the code and that file's path), so that a run
    interrupted between its commit and its write can still hand it over (app/services/enrolment.py)."""

    __tablename__ = "provisional_code"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    keypad_hash: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    expires_on: Mapped[date] = mapped_column(Date)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime)
    batch: Mapped[str | None] = mapped_column(String(120))
    batch_line: Mapped[int | None] = mapped_column(Integer)
    sealed_code: Mapped[str | None] = mapped_column(Text)
    # Only the codes still waiting for their CODES.csv are in this index: a handful, whatever the table's size.
    __table_args__ = (Index("ix_provisional_code_pending", "batch", sqlite_where=text("sealed_code IS NOT NULL"),
                            postgresql_where=text("sealed_code IS NOT NULL")),)


class Throttle(db.Model):
    """Failed identifications per NIR (keyed hash) and per client, shared by every worker."""

    __tablename__ = "throttle"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)


class WebSession(db.Model):
    """A signed-in visit; the cookie carries only a random token whose hash is kept here."""

    __tablename__ = "web_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    end_reason: Mapped[str | None] = mapped_column(String(20))


class AccessEvent(db.Model):
    __tablename__ = "access_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(String(100), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    professional_name: Mapped[str] = mapped_column(String(200))
    profession: Mapped[str] = mapped_column(String(100))
    organisation: Mapped[str] = mapped_column(String(200))
    professional_id: Mapped[str | None] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(16))
    section: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(500))
    decision: Mapped[str] = mapped_column(String(8))
    decision_reason: Mapped[str] = mapped_column(String(40))
    masked_visible: Mapped[bool] = mapped_column(Boolean, default=False)


class BlockedProfessional(db.Model):
    __tablename__ = "blocked_professional"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    professional_key: Mapped[str] = mapped_column(String(400))
    professional_name: Mapped[str] = mapped_column(String(200))
    profession: Mapped[str] = mapped_column(String(100))
    organisation: Mapped[str] = mapped_column(String(200))
    blocked_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    unblocked_at: Mapped[datetime | None] = mapped_column(DateTime)


class AccessReport(db.Model):
    """An access the holder did not recognise: a case for the operator."""

    __tablename__ = "access_report"
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    access_event_id: Mapped[int] = mapped_column(ForeignKey("access_event.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    channel: Mapped[str] = mapped_column(String(8))
    # handled at the desk: new -> in_progress (taken by a member of staff) -> closed (the person is told)
    status: Mapped[str] = mapped_column(String(12), default="new", server_default="new", index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    notes: Mapped[str | None] = mapped_column(Text)     # the staff's notes on the case, never medical content
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    __table_args__ = (UniqueConstraint("person_id", "access_event_id"),)


class ActionRecord(db.Model):
    """The receipt of one action: its reference number and who did it for whom."""

    __tablename__ = "action_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # done at the desk, at the person's request
    action: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    idempotency_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)


# A chain's key ("person:12", "staff:3", "anonymous/7"): sorted by bytes on every database (PostgreSQL's default
# collation would sort by language rules), the order the audit's Merkle tree takes its leaves in.
CHAIN_KEY = String(60).with_variant(String(60, collation="C"), "postgresql")


class AuditEntry(db.Model):
    """Append-only, hash-chained: one chain per person (or staff member, or shard of the system's entries);
    each entry's hash covers the one before it in its chain (app/audit.py)."""

    __tablename__ = "audit_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[str] = mapped_column(CHAIN_KEY)
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, 3… within the chain
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(8))
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    __table_args__ = (UniqueConstraint("chain", "seq"),)


class AuditChain(db.Model):
    """The head of one chain, locked only by the writes about its person; and where it stood at the last seal."""

    __tablename__ = "audit_chain"
    key: Mapped[str] = mapped_column(CHAIN_KEY, primary_key=True)
    length: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    sealed_length: Mapped[int] = mapped_column(Integer, default=0)
    sealed_hash: Mapped[str] = mapped_column(String(64))


class AuditRoot(db.Model):
    """A signed Merkle root over every chain's head (RFC 6962's tree hash), recorded at each `jobs run` or
    `audit seal`; each covers the one before it. The signing key is not in the database."""

    __tablename__ = "audit_root"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    chains: Mapped[int] = mapped_column(Integer)            # leaves of the tree
    entries: Mapped[int] = mapped_column(BigInteger)        # entries under it, every chain's sealed length
    root_hash: Mapped[str] = mapped_column(String(64))
    prev_root: Mapped[str] = mapped_column(String(64))      # the root hash of the seal before (genesis first)
    key_id: Mapped[str] = mapped_column(String(16))         # the first 16 hex digits of the public key's SHA-256
    signature: Mapped[str] = mapped_column(String(128))     # Ed25519, hex


class OutboxMessage(db.Model):
    """Every outgoing SMS, e-mail or letter waits here until a worker has sent it once."""

    __tablename__ = "outbox_message"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))        # sms, email, letter
    recipient: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2))
    body: Mapped[str] = mapped_column(Text)  # a code it carries is masked here
    # The whole text of a message that carries a code, encrypted (app/sealed.py) until it is handed over.
    sealed_body: Mapped[str | None] = mapped_column(Text)
    # Indexed: every new reference is checked free against it (in the decision API's path) and a quoted one found.
    reference: Mapped[str] = mapped_column(String(20), index=True)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    last_error: Mapped[str | None] = mapped_column(String(200))
    # The access a notification is about, so that an answer (BLOQUER, SIGNALER) can act on it.
    access_event_id: Mapped[int | None] = mapped_column(ForeignKey("access_event.id"))
    # A number that is nobody's registered phone (a caller asking to be called back), encrypted until the
    # message is handed over; `recipient` then only keeps it masked.
    sealed_recipient: Mapped[str | None] = mapped_column(Text)
    # The worker that holds the message: its random token, and when it took it (app/outbox.py fences with it).
    # A token left on a message that is still waiting means an earlier try may have reached the carrier.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # What the workers claim, in id order: only the messages still waiting are in it, however big the table
    # (the same predicate as app/outbox.py's _due, and as the migration d4b7e2a9c613).
    __table_args__ = (Index("ix_outbox_message_due", "id",
                            sqlite_where=text("status IN ('queued', 'sending') AND channel <> 'letter'"),
                            postgresql_where=text("status IN ('queued', 'sending') AND channel <> 'letter'")),)


class CallState(db.Model):
    """Where a phone call is in the call script, kept on the server and keyed by Twilio's CallSid.

    `seq` numbers the steps: a webhook retried with an already answered step number gets the same
    TwiML back (`last_twiml`) instead of acting twice.
    """

    __tablename__ = "call_state"
    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    caller_lookup: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2), default="fr")
    step: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    last_twiml: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="in-progress")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)


class OneTimeCode(db.Model):
    """A 6-digit code sent by SMS to confirm one pending request; stored hashed, single use, 5 tries."""

    __tablename__ = "one_time_code"
    id: Mapped[int] = mapped_column(primary_key=True)
    phone_lookup: Mapped[str] = mapped_column(String(64), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    purpose: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    code_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now, index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class InboundMessage(db.Model):
    """Each SMS received, by Twilio's MessageSid: a retried webhook gets the first answer again."""

    __tablename__ = "inbound_message"
    message_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    from_lookup: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    reply: Mapped[str] = mapped_column(Text, default="")  # a code it carries is masked here
    sealed_reply: Mapped[str | None] = mapped_column(Text)  # the whole reply, encrypted, while the code lives


class Mandate(db.Model):
    """A legal representative's mandate: a parent, a guardian (tutelle) or a habilitation familiale."""

    __tablename__ = "mandate"
    id: Mapped[int] = mapped_column(primary_key=True)
    representative_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    represented_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    end_reason: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    __table_args__ = (UniqueConstraint("representative_id", "represented_id", "kind", "valid_from"),)


class Callback(db.Model):
    """A caller to be called back by an adviser in a half-day; the number is kept encrypted (app/sealed.py)
    for the adviser, and forgotten once the callback is done or cancelled."""

    __tablename__ = "callback"
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)  # when identified
    phone_lookup: Mapped[str] = mapped_column(String(64), index=True)
    phone_sealed: Mapped[str | None] = mapped_column(Text)
    slot_day: Mapped[date] = mapped_column(Date)
    slot: Mapped[str] = mapped_column(String(2))              # am (before 13:00, Paris time), pm
    goal: Mapped[str | None] = mapped_column(String(20))      # what the caller was doing: change, history, …
    language: Mapped[str] = mapped_column(String(2))
    channel: Mapped[str] = mapped_column(String(8))
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)  # pending, done, no_answer,
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)       # cancelled
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)  # the adviser who took it
    taken_at: Mapped[datetime | None] = mapped_column(DateTime)


class Staff(db.Model):
    """A member of staff of the desk (/desk): an agent of the 34 22, a France Services counsellor, a supervisor.

    The passphrase only as an argon2 hash; the TOTP secret encrypted (app/sealed.py) with a key outside the
    database; the enrolment link only as a keyed hash, single use. `epoch` moves on when the account is disabled,
    so every desk session of before ends at once."""

    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(12))                     # agent, counsellor, supervisor
    passphrase_hash: Mapped[str | None] = mapped_column(String(200))  # set at enrolment
    totp_sealed: Mapped[str | None] = mapped_column(Text)              # confirmed at enrolment with a first code
    totp_pending: Mapped[str | None] = mapped_column(Text)             # shown once, until its first code
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # no code twice (replay)
    enrolment_lookup: Mapped[str | None] = mapped_column(String(64), unique=True)
    enrolment_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    enrolled_at: Mapped[datetime | None] = mapped_column(DateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    demo: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # `staff code` works
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)


class StaffSession(db.Model):
    """A signed-in desk visit: the cookie (path /desk) carries a random token whose hash is kept here."""

    __tablename__ = "staff_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    end_reason: Mapped[str | None] = mapped_column(String(20))


class Case(db.Model):
    """A person helped at the desk: opened by a member of staff with a reason, the person identified with them
    (never searched for), closed when done. Every act and every page about the person names its case."""

    __tablename__ = "desk_case"
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    reason: Mapped[str] = mapped_column(String(20))   # call, callback, appointment
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)  # once identified
    nir_tail: Mapped[str | None] = mapped_column(String(3))  # all staff see of the NIR: its last 3 characters
    opened_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    identified_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)


class DeskTransfer(db.Model):
    """A call the phone line put through to an adviser, with the caller identified: the adviser hears a short
    code in the whisper and types it at the desk, which opens the case with the person identified. The code is
    kept only as a keyed hash, works once, for a few minutes; it is never the NIR."""

    __tablename__ = "desk_transfer"
    id: Mapped[int] = mapped_column(primary_key=True)
    code_lookup: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    goal: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
