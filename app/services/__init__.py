"""The service layer: one public function per user action, one transaction and one audit entry each."""
import secrets
from contextlib import contextmanager
from dataclasses import dataclass

from ..domain.errors import NotAuthorized
from ..models import ActionRecord, OutboxMessage, db


@dataclass(frozen=True)
class Actor:
    """Who acts: a person (for themselves, or later for someone they represent), or the system."""

    person_id: int | None
    channel: str  # web, voice, sms, cli, api, job

    @property
    def label(self) -> str:
        return f"person:{self.person_id}" if self.person_id is not None else "system"


SYSTEM = Actor(None, "job")


@contextmanager
def transaction():
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def authorize(actor: Actor, subject_id: int, action: str) -> None:
    """A person acts for themselves; acting for others comes with mandates."""
    if actor.person_id is None or actor.person_id != subject_id:
        raise NotAuthorized()


def new_reference() -> str:
    """Nine random digits: easy to read out, type and quote on the phone line."""
    while True:
        ref = f"{secrets.randbelow(900_000_000) + 100_000_000}"
        taken = db.session.scalar(db.select(ActionRecord.id).where(ActionRecord.reference == ref)) or \
            db.session.scalar(db.select(OutboxMessage.id).where(OutboxMessage.reference == ref))
        if not taken:
            return ref


def format_reference(ref: str) -> str:
    return f"{ref[0:3]} {ref[3:6]} {ref[6:9]}"
