"""Counters and locks shared by every worker: each count is one atomic statement or a row lock, never
read-then-write, so a burst of parallel requests cannot slip past a limit (on SQLite and PostgreSQL)."""
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.dialects import postgresql, sqlite

from .. import clock
from ..models import Throttle, db


def insert_ignore(model, **values) -> None:
    """INSERT … ON CONFLICT DO NOTHING: creates a row once, whoever comes first, without an error for the others."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(model).values(**values).on_conflict_do_nothing())


def lock(key: str) -> Throttle:
    """The row `key`, created if need be and locked until the transaction ends.

    On PostgreSQL a row lock (SELECT … FOR UPDATE); on SQLite the insert is the transaction's first write,
    which takes the database's write lock: either way a second worker waits here until the first commits.
    """
    insert_ignore(Throttle, key=key, failures=0, window_started_at=clock.now())
    return db.session.get(Throttle, key, with_for_update=True, populate_existing=True)


@dataclass(frozen=True)
class Limit:
    key: str
    most: int
    window: timedelta


def _take(limit: Limit, now) -> bool:
    insert_ignore(Throttle, key=limit.key, failures=0, window_started_at=now)
    # A window that has run out starts again (only one worker can match this condition).
    db.session.execute(db.update(Throttle).where(
        Throttle.key == limit.key, Throttle.window_started_at <= now - limit.window)
        .values(failures=0, window_started_at=now, locked_until=None))
    taken = db.session.execute(db.update(Throttle).where(Throttle.key == limit.key, Throttle.failures < limit.most)
                               .values(failures=Throttle.failures + 1, last_failure_at=now))
    return taken.rowcount == 1


def counted(*limits: Limit) -> bool:
    """Count one more under every limit inside the caller's transaction: False when one is reached (the caller
    rolls back, so a refusal counts under none). For a count that must go with a write, e.g. after a unique key."""
    now = clock.now()
    return all(_take(limit, now) for limit in limits)


def take(*limits: Limit) -> bool:
    """Count one more under every limit, or under none when one of them is reached; committed at once."""
    now = clock.now()
    try:
        ok = all(_take(limit, now) for limit in limits)
        if ok:
            db.session.commit()
        else:
            db.session.rollback()  # a refusal counts under none of them
        return ok
    except BaseException:
        db.session.rollback()
        raise


def give_back(key: str) -> None:
    """One count returned (an attempt that turned out to be right); committed at once."""
    db.session.execute(db.update(Throttle).where(Throttle.key == key, Throttle.failures > 0)
                       .values(failures=Throttle.failures - 1))
    db.session.commit()
