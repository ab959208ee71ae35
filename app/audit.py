"""Append-only, hash-chained audit log: UTC times, pseudonymous ids, never a NIR, code or number."""
import hashlib
import json

from sqlalchemy.exc import IntegrityError

from . import clock
from .models import AuditEntry, AuditHead, db

GENESIS = "0" * 64


def _digest(prev_hash: str, at, actor: str, subject: str | None, action: str, channel: str, details: str) -> str:
    payload = json.dumps([prev_hash, at.isoformat(timespec="microseconds"), actor, subject, action, channel, details],
                         separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def append(actor: str, subject: str | None, action: str, channel: str, **details) -> AuditEntry:
    """Add one entry inside the caller's transaction; the head row is locked until it commits."""
    head = db.session.get(AuditHead, 1, with_for_update=True)
    if head is None:  # the first entry ever: two processes may race to create the head; one wins
        try:
            with db.session.begin_nested():
                db.session.add(AuditHead(id=1, last_hash=GENESIS))
        except IntegrityError:
            pass
        head = db.session.get(AuditHead, 1, with_for_update=True, populate_existing=True)
    at = clock.now()
    text = json.dumps(details, sort_keys=True, default=str, separators=(",", ":"))
    digest = _digest(head.last_hash, at, actor, subject, action, channel, text)
    entry = AuditEntry(at=at, actor=actor, subject=subject, action=action, channel=channel,
                       details=text, prev_hash=head.last_hash, hash=digest)
    head.last_hash = digest
    db.session.add(entry)
    return entry


def append_many(rows) -> int:
    """Add many entries inside the caller's transaction, for batch work (jobs, imports): `rows` is an iterable of
    (actor, subject, action, channel, details dict). Returns how many were added."""
    count = 0
    for actor, subject, action, channel, details in rows:
        append(actor, subject, action, channel, **details)
        count += 1
    return count


def verify() -> tuple[bool, int, int | None]:
    """Walk the chain: (intact, entries checked, id of the first broken entry)."""
    prev = GENESIS
    count = 0
    for entry in db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000):
        if entry.prev_hash != prev or entry.hash != _digest(prev, entry.at, entry.actor, entry.subject,
                                                            entry.action, entry.channel, entry.details):
            return False, count, entry.id
        prev = entry.hash
        count += 1
    head = db.session.get(AuditHead, 1)
    if head is not None and head.last_hash != prev:
        return False, count, None
    return True, count, None


def who(person_id: int | None) -> str:
    return f"person:{person_id}" if person_id is not None else "system"
