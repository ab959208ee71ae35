"""What every service shares: who acts (Actor), the transaction, the authorisation of an act, references."""
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app

from .. import audit, clock
from ..domain import mandates as rules
from ..domain.errors import NotAuthorized
from ..domain.reasons import Reason
from ..models import ActionRecord, Callback, OutboxMessage, Person, db
from .representation import current_mandate


@dataclass(frozen=True)
class Actor:
    """Who acts: a person (for themselves, or later for someone they represent), or the system."""

    person_id: int | None
    channel: str  # web, voice, sms, cli, api, job

    @property
    def label(self) -> str:
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


@contextmanager
def transaction():
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def authorize(actor: Actor, subject_id: int, action: str) -> None:
    """A person acts for themselves (a minor not alone for what the law reserves), or under a current mandate
    whose kind allows the action (a trusted helper: SPEC §2's short list).

    Every refusal is kept in the audit log, in a transaction of its own.
    """
    reason = Reason.NO_MANDATE
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


def new_reference() -> str:
    """Nine random digits: easy to read out, type and quote on the phone line."""
    while True:
        ref = f"{secrets.randbelow(900_000_000) + 100_000_000}"
        taken = db.session.scalar(db.select(ActionRecord.id).where(ActionRecord.reference == ref)) or \
            db.session.scalar(db.select(OutboxMessage.id).where(OutboxMessage.reference == ref)) or \
            db.session.scalar(db.select(Callback.id).where(Callback.reference == ref))
        if not taken:
            return ref
