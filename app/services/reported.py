"""Accesses reported as not recognised, handled at the desk: new -> in progress (taken) -> closed, with notes.

Every member of staff sees the new ones and those they took; a supervisor sees them all. A report shows what
happened (when, who, how) and its case reference, never the person: the person is told by SMS or letter, on
their channel, when it is closed. Notes are the staff's words about the case: never a medical detail, and never
a number that could be a NIR or a phone number (refused), as no table keeps one in clear.
"""
import re
from dataclasses import dataclass
from datetime import datetime

from .. import audit, clock, messages, outbox
from ..domain.errors import InvalidTransition, NotFound
from ..models import AccessEvent, AccessReport, Person, db
from .base import new_reference, transaction

NEW, IN_PROGRESS, CLOSED = "new", "in_progress", "closed"
NOTE_MAX = 1000
_NUMBER = re.compile(r"\d(?:[\s.\-]?\d){8,}")  # nine digits or more, however spaced: a NIR, a phone number


class NoteRefused(ValueError):
    """Why a note cannot be kept: 'empty', 'too_long' or 'number'."""


@dataclass(frozen=True)
class ReportView:
    id: int
    reference: str
    reported_at: datetime
    channel: str
    status: str
    staff_id: int | None
    notes: str | None
    closed_at: datetime | None
    occurred_at: datetime
    professional_name: str
    profession: str
    organisation: str
    mode: str
    decision: str


def _view(report: AccessReport, event: AccessEvent) -> ReportView:
    return ReportView(report.id, report.reference, report.created_at, report.channel, report.status,
                      report.staff_id, report.notes, report.closed_at, event.occurred_at, event.professional_name,
                      event.profession, event.organisation, event.mode, event.decision)


def _visible(staff) -> list:
    if staff.role == "supervisor":
        return []
    return [db.or_(AccessReport.status == NEW, AccessReport.staff_id == staff.id)]


def queue(staff, status: str | None = None, limit: int = 200) -> list[ReportView]:
    """The reports this member of staff may handle, oldest first; open ones unless `status` says otherwise."""
    where = [AccessReport.status == status] if status else [AccessReport.status != CLOSED]
    rows = db.session.execute(db.select(AccessReport, AccessEvent).join(
        AccessEvent, AccessEvent.id == AccessReport.access_event_id).where(*where, *_visible(staff))
        .order_by(AccessReport.created_at, AccessReport.id).limit(limit)).all()
    return [_view(r, e) for r, e in rows]


def counts() -> dict[str, int]:
    """How many reports are in each state: for the dashboard, counts only."""
    rows = db.session.execute(db.select(AccessReport.status, db.func.count()).group_by(AccessReport.status)).all()
    return {NEW: 0, IN_PROGRESS: 0, CLOSED: 0, **dict(rows)}


def _report(report_id: int, staff) -> AccessReport:
    report = db.session.get(AccessReport, report_id, populate_existing=True) if 0 < report_id < 2**31 else None
    if report is None or not (staff.role == "supervisor" or report.status == NEW or report.staff_id == staff.id):
        raise NotFound()
    return report


def get(report_id: int, staff) -> ReportView:
    report = _report(report_id, staff)
    return _view(report, db.session.get(AccessEvent, report.access_event_id))


def _who(staff) -> str:
    return f"staff:{staff.id}"


def take(report_id: int, staff) -> None:
    """New -> in progress, for this member of staff: one conditional UPDATE (two at once: one gets it)."""
    with transaction():
        report = _report(report_id, staff)
        changed = db.session.execute(db.update(AccessReport).where(
            AccessReport.id == report.id, AccessReport.status == NEW)
            .values(status=IN_PROGRESS, staff_id=staff.id)).rowcount
        if not changed:
            raise InvalidTransition("taken", "report.take")
        audit.append(_who(staff), audit.who(report.person_id), "report.taken", "desk", report=report.reference)


def _check_note(text: str) -> str:
    text = " ".join((text or "").split())
    if not text:
        raise NoteRefused("empty")
    if len(text) > NOTE_MAX:
        raise NoteRefused("too_long")
    if _NUMBER.search(text):
        raise NoteRefused("number")
    return text


def _mine(report: AccessReport, staff) -> None:
    if report.status != IN_PROGRESS or not (report.staff_id == staff.id or staff.role == "supervisor"):
        raise InvalidTransition(report.status, "report.change")


def add_note(report_id: int, staff, text: str) -> None:
    """A line of notes, dated and signed, kept with the report (in progress, by its holder or a supervisor)."""
    line = _check_note(text)
    with transaction():
        report = _report(report_id, staff)
        _mine(report, staff)
        stamp = f"{clock.now():%Y-%m-%d %H:%M} UTC, {staff.name}: {line}"
        report.notes = f"{report.notes}\n{stamp}" if report.notes else stamp
        audit.append(_who(staff), audit.who(report.person_id), "report.noted", "desk", report=report.reference)


def close(report_id: int, staff) -> str:
    """In progress -> closed: the person is told, on their channel, with a new reference; returns it."""
    with transaction():
        report = _report(report_id, staff)
        _mine(report, staff)
        changed = db.session.execute(db.update(AccessReport).where(
            AccessReport.id == report.id, AccessReport.status == IN_PROGRESS)
            .values(status=CLOSED, closed_at=clock.now())).rowcount
        if not changed:
            raise InvalidTransition(CLOSED, "report.close")
        person = db.session.get(Person, report.person_id)
        reference = new_reference()
        outbox.queue(person, messages.report_closed(person, report.reference, reference), reference)
        audit.append(_who(staff), audit.who(report.person_id), "report.closed", "desk", report=report.reference,
                     told=reference)
    return reference
