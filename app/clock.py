"""The one source of the current time, so tests and the jobs command can set it."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
_frozen: datetime | None = None


def now() -> datetime:
    """Naive UTC, as stored in the database."""
    if _frozen is not None:
        return _frozen
    return datetime.now(timezone.utc).replace(tzinfo=None)


def today(zone: ZoneInfo | None = None) -> date:
    """The calendar date in `zone` (default: metropolitan France). A person's own deadlines are dates where
    they live: see app/zones.py."""
    return now().replace(tzinfo=timezone.utc).astimezone(zone or PARIS).date()


def freeze(moment: datetime | None) -> None:
    """Set (or with None, release) the current time; for tests and `jobs run --as-of`."""
    global _frozen
    _frozen = moment
