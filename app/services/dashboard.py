"""A picture of the service for supervisors: counts a day and queue sizes, never a person.

Each series is one GROUP BY on a day of Paris (the advisers' clock), over the last DAYS days; the desk draws them
as server-rendered SVG bars (no script), with the numbers in a table beside each chart.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from .. import clock
from ..models import ActionRecord, Callback, CallState, InboundMessage, OutboxMessage, WebSession, db
from . import reported

DAYS = 14


@dataclass(frozen=True)
class Series:
    name: str            # a key of the desk's texts
    counts: list[int]    # one a day, oldest first


@dataclass(frozen=True)
class Chart:
    name: str
    days: list[date]
    series: list[Series]

    @property
    def most(self) -> int:
        return max([1, *(c for s in self.series for c in s.counts)])


def _days(today: date) -> list[date]:
    return [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]


def _utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=clock.PARIS).astimezone(timezone.utc).replace(tzinfo=None)


def _per_day(column, *where, days: list[date]) -> list[int]:
    """How many rows a Paris day, by `column` (a naive UTC moment): counted in Python from one query of the
    moments' Paris dates (portable over SQLite and PostgreSQL), DAYS days at most."""
    start, end = _utc(days[0]), _utc(days[-1] + timedelta(days=1))
    moments = db.session.scalars(db.select(column).where(column >= start, column < end, *where))
    by_day = dict.fromkeys(days, 0)
    for moment in moments:
        day = moment.replace(tzinfo=timezone.utc).astimezone(clock.PARIS).date()
        if day in by_day:
            by_day[day] += 1
    return [by_day[d] for d in days]


def charts(today: date | None = None) -> list[Chart]:
    days = _days(today or clock.today())

    def acts(action):
        return _per_day(ActionRecord.created_at, ActionRecord.action == action, days=days)
    return [
        Chart("spaces", days, [Series("opposed", acts("space.opposed")), Series("closed", acts("space.closed")),
                               Series("reopened", acts("space.reopened"))]),
        Chart("channels", days, [Series("calls", _per_day(CallState.created_at, days=days)),
                                 Series("sms", _per_day(InboundMessage.received_at, days=days)),
                                 Series("web", _per_day(WebSession.created_at, days=days))]),
        Chart("failed", days, [Series("failed", _per_day(OutboxMessage.created_at, OutboxMessage.status == "failed",
                                                         days=days))]),
    ]


def queues() -> dict[str, int]:
    """What waits now: callbacks to make, reports new and in progress, letters to print, messages failed."""
    count = db.func.count
    report_counts = reported.counts()
    return {
        "callbacks": db.session.scalar(db.select(count(Callback.id)).where(Callback.status == "pending")),
        "reports_new": report_counts[reported.NEW],
        "reports_in_progress": report_counts[reported.IN_PROGRESS],
        "letters": db.session.scalar(db.select(count(OutboxMessage.id)).where(
            OutboxMessage.channel == "letter", OutboxMessage.status == "queued")),
        "failed": db.session.scalar(db.select(count(OutboxMessage.id)).where(OutboxMessage.status == "failed")),
    }
