"""Accesses to a health space: recording them with the decision, the history, blocking and reporting."""
import hashlib
import math
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from flask import current_app
from sqlalchemy.exc import IntegrityError

from .. import audit, clock, messages, outbox, replica, zones
from ..domain.emergency import Decision, EmergencySettings, decide
from ..domain.errors import InvalidTransition, NotFound
from ..models import AccessEvent, AccessReport, BlockedProfessional, HealthSpace, OutboxMessage, Person, db
from .base import Actor, authorize, new_reference, transaction
from .crypto import lookup
from .spaces import _settle, act_once


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).casefold().split())


def professional_keys(name: str, profession: str, organisation: str, professional_id: str | None) -> set[str]:
    key = "name:" + "|".join(_fold(x) for x in (name, profession, organisation))
    if len(key) > 380:  # the column holds 400: a long one is kept as its digest, the same for the same names
        key = "name#" + hashlib.sha256(key.encode()).hexdigest()
    keys = {key}
    if professional_id:
        keys.add("rpps:" + professional_id.strip())
    return keys


def _is_blocked(person_id: int, keys: set[str]) -> bool:
    return db.session.scalar(db.select(BlockedProfessional.id).where(
        BlockedProfessional.person_id == person_id, BlockedProfessional.unblocked_at.is_(None),
        BlockedProfessional.professional_key.in_(keys)).limit(1)) is not None


@dataclass(frozen=True)
class AccessAttempt:
    """An access attempt as the health-record system reports it (already validated)."""

    nir: str
    occurred_at: datetime        # naive UTC
    professional_name: str
    profession: str
    organisation: str
    mode: str
    section: str
    reason: str | None = None
    professional_id: str | None = None
    event_id: str | None = None


class UnknownPerson(Exception):
    """No health space is known for this NIR."""


def record_access(attempt: AccessAttempt, channel: str) -> tuple[AccessEvent, Decision, bool]:
    """Decide and record one access; a repeated event_id returns the first record (created=False)."""
    key = attempt.event_id or uuid.uuid4().hex
    keys = professional_keys(attempt.professional_name, attempt.profession, attempt.organisation,
                             attempt.professional_id)
    found = _look_up(attempt.nir, key, keys)
    if found is None or found[3] is not None:  # nobody with this NIR, or an event_id already recorded
        existing = _recorded(key)
        if existing is not None:
            return existing
        raise UnknownPerson()
    person, space, blocked, _existing = found
    try:
        return _record(attempt, person, space, blocked, key, channel)
    except IntegrityError:  # the same event_id, at the same moment, on another worker: its answer is ours
        existing = _recorded(key)
        if existing is None:
            raise
        return existing


# What a decision needs, in one statement (the health-record system waits on it): the person, their space, whether
# the professional is blocked, and the id of an event already recorded under this event_id. Built once: building
# and caching a statement of this size costs more CPU than PostgreSQL takes to run it. Fresh values
# (populate_existing): a session that has seen the person before (a bulk import) decides under today's settings.
_LOOK_UP = (db.select(Person, HealthSpace,
                      db.exists().where(BlockedProfessional.person_id == Person.id,
                                        BlockedProfessional.unblocked_at.is_(None),
                                        BlockedProfessional.professional_key.in_(db.bindparam("keys", expanding=True)))
                      .label("blocked"),
                      db.select(AccessEvent.id).where(AccessEvent.event_key == db.bindparam("key"))
                      .scalar_subquery().label("recorded"))
            .join(HealthSpace, HealthSpace.person_id == Person.id).where(Person.nir_lookup == db.bindparam("nir"))
            .execution_options(populate_existing=True))
_INSERT_EVENT = AccessEvent.__table__.insert().returning(AccessEvent.__table__.c.id)


def _look_up(nir: str, key: str, keys: set[str]):
    """(person, space, blocked, id of the event already recorded with this key or None); None: nobody's NIR."""
    row = db.session.execute(_LOOK_UP, {"nir": lookup("nir", nir), "key": key, "keys": sorted(keys)}).first()
    return tuple(row) if row is not None else None


def _recorded(key: str) -> tuple[AccessEvent, Decision, bool] | None:
    event = db.session.scalar(db.select(AccessEvent).where(AccessEvent.event_key == key))
    if event is None:
        return None
    return event, Decision(event.decision == "granted", event.decision_reason, event.masked_visible), False


def _record(attempt: AccessAttempt, person: Person, space: HealthSpace, blocked: bool, key: str, channel: str
            ) -> tuple[AccessEvent, Decision, bool]:
    with transaction():
        _settle(space, clock.today())
        settings = EmergencySettings(space.samu_access, space.break_glass_access, space.masked_in_emergency)
        decision = decide(space.state, settings, attempt.mode, blocked)
        values = {"event_key": key, "person_id": person.id, "occurred_at": attempt.occurred_at,
                  "recorded_at": clock.now(), "professional_name": attempt.professional_name,
                  "profession": attempt.profession, "organisation": attempt.organisation,
                  "professional_id": attempt.professional_id, "mode": attempt.mode, "section": attempt.section,
                  "reason": attempt.reason, "decision": decision.outcome, "decision_reason": decision.reason,
                  "masked_visible": decision.masked_documents_visible}
        # One INSERT … RETURNING, not the unit of work's flush: the row is written once and never changed here. The
        # event given back is the row as written (outside the session: read after the commit, never loaded again).
        event = AccessEvent(id=db.session.execute(_INSERT_EVENT, values).scalar_one(), **values)
        # The entry written by one INSERT too (append would add it to the unit of work, flushed later).
        audit.append_many([("health-record-system", audit.who(person.id), "access.recorded", channel,
                            {"event": event.id, "mode": attempt.mode, "decision": decision.outcome,
                             "reason": decision.reason})])
        _notify(person, event)
    return event, decision, True


def _notify(person: Person, event: AccessEvent) -> None:
    """Tell the holder at once, on their channel: SMS with a mobile, else a letter to print."""
    if not person.notifications_enabled:
        return
    reference = new_reference()
    outbox.write(person, messages.access_notice(person, event, reference), reference,
                 channel="sms" if person.mobile else "letter", access_event_id=event.id)


# --- history ---------------------------------------------------------------------------

@dataclass(frozen=True)
class HistoryLine:
    event: AccessEvent
    blocked: bool
    report_reference: str | None


@dataclass(frozen=True)
class HistoryPage:
    lines: list[HistoryLine]
    page: int
    pages: int
    total: int


def _day_bounds(day: date, end: bool, zone) -> datetime:
    local = datetime.combine(day + timedelta(days=1) if end else day, time.min, tzinfo=zone)
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def history(actor: Actor, subject_id: int, page: int = 1, date_from: date | None = None,
            date_to: date | None = None, per_page: int | None = None) -> HistoryPage:
    """Accesses newest first, a page at a time, optionally between two calendar dates of the reader's zone."""
    authorize(actor, subject_id, "history")
    per_page = per_page or current_app.config["HISTORY_PAGE_SIZE"]
    where = [AccessEvent.person_id == subject_id]
    zone = zones.zone_of_id(actor.person_id)
    if date_from:
        where.append(AccessEvent.occurred_at >= _day_bounds(date_from, False, zone))
    if date_to:
        where.append(AccessEvent.occurred_at < _day_bounds(date_to, True, zone))
    read = replica.session()  # a read replica when there is one: the page may lag the primary by a moment
    total = read.scalar(db.select(db.func.count(AccessEvent.id)).where(*where))
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    events = read.scalars(db.select(AccessEvent).where(*where)
                          .order_by(AccessEvent.occurred_at.desc(), AccessEvent.id.desc())
                          .offset((page - 1) * per_page).limit(per_page)).all()
    blocks = set(read.scalars(db.select(BlockedProfessional.professional_key).where(
        BlockedProfessional.person_id == subject_id, BlockedProfessional.unblocked_at.is_(None))))
    reports = dict(read.execute(db.select(AccessReport.access_event_id, AccessReport.reference).where(
        AccessReport.person_id == subject_id, AccessReport.access_event_id.in_([e.id for e in events]))).all())
    lines = [HistoryLine(e, bool(blocks & professional_keys(e.professional_name, e.profession, e.organisation,
                                                             e.professional_id)), reports.get(e.id))
             for e in events]
    return HistoryPage(lines, page, pages, total)


def _event(subject_id: int, event_id: int) -> AccessEvent:
    event = db.session.get(AccessEvent, event_id)
    if event is None or event.person_id != subject_id:
        raise NotFound()
    return event


def event_for(actor: Actor, subject_id: int, event_id: int) -> AccessEvent:
    authorize(actor, subject_id, "history")
    return _event(subject_id, event_id)


def block_professional(actor: Actor, subject_id: int, event_id: int, idempotency_key: str | None = None):
    """Refuse later accesses by the professional of this history line (by RPPS when known, else by name)."""
    def change(space, today):
        e = _event(subject_id, event_id)
        keys = professional_keys(e.professional_name, e.profession, e.organisation, e.professional_id)
        if _is_blocked(subject_id, keys):
            raise InvalidTransition("blocked", "block")
        key = "rpps:" + e.professional_id.strip() if e.professional_id else min(keys)
        db.session.add(BlockedProfessional(person_id=subject_id, professional_key=key,
                                           professional_name=e.professional_name, profession=e.profession,
                                           organisation=e.organisation, blocked_at=clock.now()))
        return {"professional": e.professional_name, "profession": e.profession, "organisation": e.organisation}
    return act_once(actor, subject_id, "professional.blocked", idempotency_key, change)


def blocked_professionals(actor: Actor, subject_id: int) -> list[BlockedProfessional]:
    authorize(actor, subject_id, "history")
    return list(db.session.scalars(db.select(BlockedProfessional).where(
        BlockedProfessional.person_id == subject_id, BlockedProfessional.unblocked_at.is_(None))
        .order_by(BlockedProfessional.blocked_at.desc())))


def unblock_professional(actor: Actor, subject_id: int, block_id: int, idempotency_key: str | None = None):
    def change(space, today):
        b = db.session.get(BlockedProfessional, block_id)
        if b is None or b.person_id != subject_id or b.unblocked_at is not None:
            raise NotFound()
        b.unblocked_at = clock.now()
        return {"professional": b.professional_name, "profession": b.profession, "organisation": b.organisation}
    return act_once(actor, subject_id, "professional.unblocked", idempotency_key, change)


def report_access(actor: Actor, subject_id: int, event_id: int, idempotency_key: str | None = None):
    """Report an access as not recognised: a case reference, kept in the audit log and the export."""
    def change(space, today):
        e = _event(subject_id, event_id)
        if db.session.scalar(db.select(AccessReport.id).where(AccessReport.person_id == subject_id,
                                                              AccessReport.access_event_id == e.id)):
            raise InvalidTransition("reported", "report")
        return {"event": e.id, "professional": e.professional_name, "occurred_at": e.occurred_at.isoformat()}

    def after(record):
        db.session.add(AccessReport(reference=record.reference, person_id=subject_id, access_event_id=event_id,
                                    created_at=record.created_at, channel=actor.channel))
    return act_once(actor, subject_id, "access.reported", idempotency_key, change, after)


def _notified(subject_id: int, quoted_reference: str | None) -> tuple[AccessEvent, str] | None:
    stmt = db.select(OutboxMessage.access_event_id, OutboxMessage.reference).where(
        OutboxMessage.person_id == subject_id, OutboxMessage.access_event_id.is_not(None))
    if quoted_reference:
        stmt = stmt.where(OutboxMessage.reference == quoted_reference)
    row = db.session.execute(stmt.order_by(OutboxMessage.id.desc()).limit(1)).first()
    return (db.session.get(AccessEvent, row[0]), row[1]) if row is not None else None


def notified_event(subject_id: int, quoted_reference: str | None = None) -> AccessEvent | None:
    """The access an answer to a notice is about: the one the quoted reference names, else the last notified."""
    found = _notified(subject_id, quoted_reference)
    return found[0] if found else None


def notice_detail(actor: Actor, subject_id: int, quoted_reference: str | None = None
                  ) -> tuple[AccessEvent, str] | None:
    """The access a discreet notice told of (DETAIL), with the notice's reference: who, read by the holder."""
    authorize(actor, subject_id, "history")
    return _notified(subject_id, quoted_reference)


def reports_for_export() -> list[tuple[AccessReport, AccessEvent]]:
    return list(db.session.execute(db.select(AccessReport, AccessEvent).join(
        AccessEvent, AccessEvent.id == AccessReport.access_event_id).order_by(AccessReport.id)).all())


def send_history(actor: Actor, subject_id: int, idempotency_key: str | None = None):
    """Queue the history: the last 3 accesses by SMS, or the last 50 by post without a mobile.

    It goes to the holder, or to the representative who asked for it when they have a mobile.
    """
    def recipient(space) -> Person:
        if actor.person_id not in (None, subject_id):
            rep = db.session.get(Person, actor.person_id)
            if rep.mobile:
                return rep
        return space.person

    def change(space, today):
        to = recipient(space)
        return {"sent_by": "sms" if to.mobile else "letter",
                "to": "holder" if to.id == subject_id else "representative"}

    def after(record):
        person = db.session.get(Person, subject_id)
        to = recipient(person.space)
        limit = 3 if to.mobile else 50
        events = list(db.session.scalars(db.select(AccessEvent).where(AccessEvent.person_id == subject_id)
                                         .order_by(AccessEvent.occurred_at.desc()).limit(limit)))
        about = person if to.id != subject_id else None
        body = messages.history_sms(to, events, record.reference, about) if to.mobile \
            else messages.history_letter(to, events, record.reference)
        outbox.queue(to, body, record.reference, channel="sms" if to.mobile else "letter")
    return act_once(actor, subject_id, "history.sent", idempotency_key, change, after)
