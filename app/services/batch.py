"""Batch work for the scheduled jobs: candidates taken a chunk at a time, receipts and references in a few
statements a chunk, each safe when the same job runs on two machines at once."""
import json
import secrets
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, any_
from sqlalchemy.dialects import postgresql, sqlite

from .. import clock, outbox, zones
from ..models import ActionRecord, Callback, OutboxMessage, db
from ..text import gsm7
from .base import transaction

CHUNK = 1000  # candidates a transaction: a few hundred milliseconds of row locks, one commit for many people


def each_chunk(candidates, key, lock, work, size: int | None = None) -> int:
    """Run `work(rows)` on the rows of `candidates` (a select whose first column is `key`), `size` rows a
    transaction, in the order of `key`; returns the sum of what `work` returns.

    On PostgreSQL each chunk's rows of `lock` are taken `FOR UPDATE SKIP LOCKED`: two machines running the same
    job at once take different chunks instead of waiting for each other. Then one more pass waits for the rows
    still due (`candidates` must leave out what is done): those a person's own action held a moment ago. What
    `work` writes must still be guarded (a unique key, or an UPDATE whose WHERE says the row is still due): a
    row the other machine has just committed can be read here as it was before. SQLite ignores the locks and
    has one writer at a time."""
    size = size or CHUNK
    done = _pass(candidates, key, lock, work, size, skip_locked=True)
    if db.session.get_bind().dialect.name == "postgresql":
        done += _pass(candidates, key, lock, work, size, skip_locked=False)
    return done


def _pass(candidates, key, lock, work, size: int, skip_locked: bool) -> int:
    done, last = 0, None
    while True:
        with transaction():
            stmt = candidates if last is None else candidates.where(key > last)
            rows = db.session.execute(stmt.order_by(key).limit(size)
                                      .with_for_update(of=lock, skip_locked=skip_locked)).all()
            if rows:
                done += work(rows)
        if len(rows) < size:
            return done
        last = rows[-1][0]


def local_todays(as_of: date) -> tuple[date, date]:
    """The earliest and the latest of the people's own todays: run today, those of the zones Relais gives people
    (app/zones.py: Paris's, and overseas a day behind it or ahead at some hours); an explicit `as_of` as it is.
    A first sift of candidates in SQL; their_days then decides for each person."""
    if as_of != clock.today():
        return as_of, as_of
    names = {zones.PARIS_NAME, *zones.BY_POSTAL_PREFIX.values(), *zones.BY_POSTAL_CODE.values(),
             *zones.BY_PHONE_REGION.values()}
    days = {clock.today(ZoneInfo(name)) for name in names}
    return min(days), max(days)


def their_days(rows, as_of: date) -> list[date]:
    """Each row's own today (rows with time_zone, postal_code and phone, as a person has): run today, a job
    applies the calendar of where each person lives; an explicit `as_of` is taken as it is."""
    if as_of != clock.today():
        return [as_of] * len(rows)
    days: dict = {}
    out = []
    for row in rows:
        zone = zones.zone_of(row)
        if zone not in days:
            days[zone] = clock.today(zone)
        out.append(days[zone])
    return out


def among(column, values):
    """`column IN values`; on PostgreSQL `= ANY(array)`, one parameter however many values (see insert_many)."""
    values = list(values)
    if db.session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    return column == any_(db.bindparam(None, values, type_=postgresql.ARRAY(column.type)))


def new_references(n: int) -> list[str]:
    """n references, none already given (base.new_reference's rule, checked in three queries for the lot)."""
    out: set[str] = set()
    while len(out) < n:
        fresh = {f"{secrets.randbelow(900_000_000) + 100_000_000}" for _ in range(n - len(out))} - out
        for column in (ActionRecord.reference, OutboxMessage.reference, Callback.reference):
            fresh -= set(db.session.scalars(db.select(column).where(among(column, fresh))))
        out |= fresh
    return list(out)


def insert_many(table, rows: list[dict], returning=None, skip_conflicts: bool = False) -> list:
    """Insert `rows` (dicts with the same keys) into `table` in one statement; with `skip_conflicts`, a row that
    would break a unique constraint is left out (ON CONFLICT DO NOTHING). Returns the `returning` column of the
    rows written.

    On PostgreSQL the rows go as one array a column through unnest(): a short statement, whatever the number of
    rows. (psycopg parses anew every statement longer than 4 kB: a thousand rows of VALUES took longer to send
    than to write.) SQLite takes them as an executemany."""
    if not rows:
        return []
    columns = list(rows[0])
    if db.session.get_bind().dialect.name != "postgresql":
        stmt = sqlite.insert(table)
        if skip_conflicts:
            stmt = stmt.on_conflict_do_nothing()
        if returning is None:
            db.session.execute(stmt, rows)
            return []
        return list(db.session.scalars(stmt.returning(returning), rows))
    pg = postgresql.dialect()
    quote = pg.identifier_preparer.quote
    json_columns = {c for c in columns if isinstance(table.c[c].type, JSON)}
    params = {f"c{k}": [json.dumps(r[c]) if c in json_columns and r[c] is not None else r[c] for r in rows]
              for k, c in enumerate(columns)}
    arrays = ", ".join(f"CAST(:c{k} AS {'TEXT' if c in json_columns else table.c[c].type.compile(dialect=pg)}[])"
                       for k, c in enumerate(columns))
    names = ", ".join(quote(c) for c in columns)
    picked = ", ".join(f"CAST(u.{quote(c)} AS JSON)" if c in json_columns else f"u.{quote(c)}" for c in columns)
    sql = f"INSERT INTO {quote(table.name)} ({names}) SELECT {picked} FROM unnest({arrays}) AS u({names})"
    if skip_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning is None:
        db.session.execute(db.text(sql), params)
        return []
    return list(db.session.scalars(db.text(sql + f" RETURNING {quote(returning.name)}"), params))


def queue_many(messages) -> int:
    """outbox.queue for many messages that carry no secret (the jobs': reminders, ends of mandates, deletions
    done), in one INSERT: `messages` are (person, body, reference). The same choices as outbox.queue: an SMS to a
    mobile, else an e-mail, else a letter; a letter when the number opted out at Twilio; an SMS kept in GSM-7;
    the listening workers woken. tests/services/test_batch.py holds the two to the same rows."""
    now = clock.now()
    rows = []
    for person, body, reference in messages:
        mobile = person.mobile  # parses the number: once a message here (outbox.queue asks twice)
        channel = "sms" if mobile else "email" if person.email else "letter"
        if channel == "sms" and person.sms_blocked_at is not None:
            channel = "letter"  # Twilio would refuse it (21610): the letter goes instead
        rows.append({"person_id": person.id, "channel": channel,
                     "recipient": {"sms": mobile, "email": person.email}.get(channel), "language": person.language,
                     "body": gsm7(body) if channel == "sms" else body, "reference": reference, "sensitive": False,
                     "status": "queued", "attempts": 0, "next_attempt_at": now, "created_at": now})
    insert_many(OutboxMessage.__table__, rows)
    if rows:
        outbox.wake_workers()
    return len(rows)


def record_receipts(action: str, items: list[tuple[int, str | None, dict]]) -> list[str | None]:
    """The job's receipts, one per (subject id, idempotency key or None, details), in one INSERT … ON CONFLICT
    DO NOTHING RETURNING: a key that is there already (the same job on another machine wrote it first) is left
    out. Returns each item's reference, None for those left out.

    A reference taken meanwhile by another transaction (random, so rare) conflicts too: those items are tried
    again with new references."""
    refs: list[str | None] = [None] * len(items)
    pending = list(range(len(items)))
    now = clock.now()
    for _ in range(5):
        if not pending:
            return refs
        by_ref = dict(zip(new_references(len(pending)), pending))
        placed = set(insert_many(ActionRecord.__table__, [
            {"reference": ref, "subject_id": items[i][0], "actor_id": None, "staff_id": None, "action": action,
             "channel": "job", "created_at": now, "idempotency_key": items[i][1], "details": items[i][2]}
            for ref, i in by_ref.items()], returning=ActionRecord.__table__.c.reference, skip_conflicts=True))
        for ref in placed:
            refs[by_ref[ref]] = ref
        left = [i for ref, i in by_ref.items() if ref not in placed]
        keys = [items[i][1] for i in left if items[i][1] is not None]
        done = set(db.session.scalars(db.select(ActionRecord.idempotency_key).where(
            among(ActionRecord.idempotency_key, keys)))) if keys else set()
        pending = [i for i in left if items[i][1] is None or items[i][1] not in done]
    raise RuntimeError("receipts could not be given free references")
