"""What every service shares: who acts (Actor), the transaction, the authorisation of an act, references."""
import secrets
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app

from .. import audit, clock
from ..domain import mandates as rules
from ..domain.errors import NotAuthorized
from ..domain.reasons import Reason
from ..models import ActionRecord, Callback, Case, OutboxMessage, Person, db
from .crypto import token_digest
from .representation import current_mandate


@dataclass(frozen=True)
class Actor:
    """Who acts: a person (for themselves, or later for someone they represent), or the system."""

    person_id: int | None
    channel: str  # web, voice, sms, cli, api, job, desk
    # At the desk: the member of staff acting at the person's request, in an open case where the person
    # identified with them; `person_id` is then the person themself (what they may do, staff may do for them).
    staff_id: int | None = None
    case_id: int | None = None

    @property
    def label(self) -> str:
        if self.staff_id is not None:
            return f"staff:{self.staff_id}"
        return f"person:{self.person_id}" if self.person_id is not None else "system"


SYSTEM = Actor(None, "job")


@dataclass(frozen=True)
class Receipt:
    """What an action leaves: its reference number, what was done, by whom, for whom — a plain value."""

    id: int
    reference: str
    action: str
    subject_id: int | None  # None: a caller not identified (a callback)
    actor_id: int | None
    channel: str
    created_at: datetime
    idempotency_key: str | None = None
    details: dict = field(default_factory=dict)

    @classmethod
    def of(cls, record: ActionRecord) -> "Receipt":
        return cls(record.id, record.reference, record.action, record.subject_id, record.actor_id, record.channel,
                   record.created_at, record.idempotency_key, dict(record.details or {}))


_IN_CHUNK: ContextVar[bool] = ContextVar("in_chunk", default=False)


@contextmanager
def transaction():
    """One transaction: committed at the end, rolled back on any exception. Inside chunk(), a savepoint of the
    chunk's transaction instead: what fails is undone alone, the rest commits with the chunk."""
    if _IN_CHUNK.get():
        with db.session.begin_nested():
            yield db.session
        return
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def _begin() -> None:
    """Open the database transaction now. Python's sqlite3 opens one only before a write, and a SAVEPOINT outside a
    transaction is one of its own, committed by its RELEASE: the chunk would not be one transaction."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")


@contextmanager
def chunk():
    """Many service calls of a bulk import (access events, mandates) in one transaction and one commit; each
    call's own transaction() becomes a savepoint in it, so a row refused or undone leaves the others in."""
    if _IN_CHUNK.get():
        yield db.session
        return
    token = _IN_CHUNK.set(True)
    try:
        _begin()
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        _IN_CHUNK.reset(token)


def authorize(actor: Actor, subject_id: int, action: str) -> None:
    """A person acts for themselves (a minor not alone for what the law reserves), or under a current mandate
    whose kind allows the action (a trusted helper: SPEC §2's short list).

    Every refusal is kept in the audit log, in a transaction of its own.
    """
    reason = Reason.NO_MANDATE
    if actor.staff_id is not None and not _in_open_case(actor, subject_id):
        actor = Actor(None, actor.channel, actor.staff_id)  # no case of theirs with this person: nothing allowed
    if actor.person_id is not None:
        today = clock.today()
        if actor.person_id == subject_id:
            person = db.session.get(Person, subject_id)
            if person is None or rules.may_act_alone(action, person.birth_date, person.autonomous_on, today,
                                                     current_app.config["MAJORITY_AGE"]):
                return
            reason = Reason.MINOR_ALONE
        else:
            mandate = current_mandate(actor.person_id, subject_id, today)
            if mandate is not None:
                if rules.may_do(mandate.kind, action):
                    return
                reason = Reason.HELPER_LIMIT
    with transaction():
        audit.append(actor.label, f"person:{subject_id}", "refused." + action, actor.channel, reason=reason)
    raise NotAuthorized(reason)


def _in_open_case(actor: Actor, subject_id: int) -> bool:
    """Staff act only in a case of their own, still open, where this very person identified with them."""
    case = db.session.get(Case, actor.case_id) if actor.case_id else None
    return case is not None and case.staff_id == actor.staff_id and case.closed_at is None \
        and case.person_id == subject_id == actor.person_id


def keep_alive(row, idle_minutes: int, max_hours: int, ended: str | None = None) -> str | None:
    """A server-side session seen again (a person's on the web, a member of staff's at the desk): why it ends now
    ('idle', 'expired', or `ended` given by the caller), written at once; else its last-seen time moved on (at most
    one write every 30 s). Returns the reason it ended, or None while it lasts."""
    now = clock.now()
    reason = ended
    if reason is None and row.last_seen_at + timedelta(minutes=idle_minutes) < now:
        reason = "idle"
    elif reason is None and row.created_at + timedelta(hours=max_hours) < now:
        reason = "expired"
    with transaction():
        if reason:
            row.ended_at, row.end_reason = now, reason
        elif (now - row.last_seen_at).total_seconds() > 30:  # spare a write on every click
            row.last_seen_at = now
    return reason


def sign_out(model, token: str | None, who, channel: str, action: str) -> None:
    """A session (a row of `model`, found by its token's hash) ended by its owner, for good; `who(row)` names them
    in the audit log."""
    if not token:
        return
    with transaction():
        row = db.session.scalar(db.select(model).where(model.token_hash == token_digest(token)))
        if row is not None and row.ended_at is None:
            row.ended_at, row.end_reason = clock.now(), "signed_out"
            audit.append(who(row), who(row), action, channel)


def new_reference() -> str:
    """Nine random digits: easy to read out, type and quote on the phone line."""
    while True:
        ref = f"{secrets.randbelow(900_000_000) + 100_000_000}"
        if not db.session.scalar(_TAKEN, {"ref": ref}):
            return ref


# Whether a reference is already used, in one statement for the three tables that hold them, built once: every
# access notice makes a reference, in the path of the decision API.
_TAKEN = db.select(db.exists().where(ActionRecord.reference == db.bindparam("ref"))
                   | db.exists().where(OutboxMessage.reference == db.bindparam("ref"))
                   | db.exists().where(Callback.reference == db.bindparam("ref")))
