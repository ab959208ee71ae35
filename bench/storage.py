"""What the national database costs in bytes, on PostgreSQL: per table, per person, per access event, and at 65 M.

    scripts/with-postgres.sh .venv/bin/python bench/storage.py [--people 20000] [--events 20000] [--seed 1] [--keep]

PostgreSQL only (the national plan's database): it refuses to run without a `postgresql` DATABASE_URL. On that
server it creates a database of its own (`relais_storage_<pid>`, dropped at the end unless `--keep`), migrates it
(`flask db upgrade`), enrols `--people` people of bench/population.py with `flask enrol` (cheap argon2 for the
enrolment only: nobody identifies here) and shapes their spaces as bench/decision_api.py does (88 % active, 4 %
opposed, 3 % closed, 5 % in their window; 3 % with a professional blocked, 5 % without a mobile, 5 % wanting no
message at each access).

Then it records `--events` access events as the health-record system would, but in-process: one
`app.services.validation.submit_access(body, "api")` a call (what `POST /api/v1/access-events` calls, without
HTTP), in one worker process a CPU, each in its own transaction: decided, recorded, audited, its message queued.
The bodies are bench/decision_api.py's (`write_bodies`: a random enrolled NIR, population.py's professionals and
sections, modes normal 90 %, samu 6 %, break_glass 4 % with a reason), each with a distinct random UUID as
`event_id` (36 characters, as a health-record system's identifiers would be; random, so the unique index on it
grows as it would nationally, not in order) and `occurred_at` to the second, as many events a second as at 1 M a
day (11.6), so that the index on it deduplicates as it would nationally. Then every queued message is marked
claimed and handed over as the outbox worker does it (50 claimed a transaction, then each SMS marked sent with
Twilio's 34-character SID, the claim's token left on it, each letter printed, sealed texts cleared; one commit a
message), replayed in PL/pgSQL: nothing is ever deleted from the outbox, so its rows are kept in that state (the
outbox as queued is measured too, and printed beside). 20,000 events by default, not more: on a 2-vCPU machine
they are recorded at 90-230 a second, and the bytes a row at 40,000 were those of 20,000 within 3 %.

It measures the tables three times, after `VACUUM ANALYZE`: empty (after the migration: the pages an empty table
and its indexes take, left out of the extrapolation), after the enrolment (what a person costs) and after the
events and their messages' delivery (what an event adds: the growth between the two, divided by the events). It
prints, per table, exact rows, heap bytes (`pg_relation_size`), index bytes (`pg_indexes_size`), TOAST bytes (the
TOAST table and its index), total (`pg_total_relation_size`, which adds the free-space and visibility maps), bytes
a row, and the share of the heap that is live rows (pgstattuple, created in the throwaway database when the server
has it); then every index with its size, bytes a row and B-tree leaf fill (pgstatindex); the WAL written per
access event (`pg_wal_lsn_diff` of `pg_current_wal_lsn()` around the events; WAL records and full-page images from
`pg_stat_wal`) and per person enrolled; audit entries and outbox messages per event; then the extrapolation to
65 M people and 1 M access events a day, for 1 and 5 years, with its assumptions.

Exits 1 when something failed: an event refused as invalid, events recorded ≠ events submitted, messages queued ≠
messages due, an audit entry missing for an event, a message not marked handed over.
"""
import argparse
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import decision_api  # noqa: E402
import population  # noqa: E402
import webhook_latency as wl  # noqa: E402

SECRETS = {"SECRET_KEY": "bench-secret-key", "LOOKUP_KEY": "bench-lookup-key"}
NATION = 65_000_000          # people with a health space
EVENTS_A_DAY = 1_000_000     # access events sent by the health-record system
YEARS = (1, 5)
# The tables the brief names, printed first and always (even empty); the others when they have rows.
NAMED = ["person", "health_space", "provisional_code", "access_event", "audit_entry", "audit_chain",
         "outbox_message", "action_record"]
GB = 1e9


class Database(decision_api.Database):
    """decision_api's throwaway database, under a name of this script's."""

    def __init__(self, server_url: str, keep: bool):
        super().__init__(server_url, keep)
        self.name = f"relais_storage_{os.getpid()}"
        self.url = self.server.set(database=self.name).render_as_string(hide_password=False)


def _engine(url: str, **kw):
    from sqlalchemy import create_engine
    return create_engine(url, **kw)


def vacuum_analyze(url: str) -> None:
    from sqlalchemy import text
    engine = _engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as c:
            c.execute(text("VACUUM ANALYZE"))
    finally:
        engine.dispose()


def snapshot(url: str, density: bool = False) -> tuple[dict[str, dict], list[tuple]]:
    """Every table of the public schema: exact rows and sizes; and every index (table, index, bytes, definition,
    B-tree leaf density in % or None). `density`: with pgstattuple's figures (it reads every page)."""
    from sqlalchemy import text
    engine = _engine(url)
    try:
        with engine.connect() as c:
            tables = {}
            for name, heap, indexes, toast, total in c.execute(text(
                    "SELECT c.relname, pg_relation_size(c.oid), pg_indexes_size(c.oid), "
                    "coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0), pg_total_relation_size(c.oid) "
                    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname")):
                rows = c.execute(text(f'SELECT count(*) FROM "{name}"')).scalar()
                tables[name] = {"rows": rows, "heap": heap, "indexes": indexes, "toast": toast, "total": total,
                                "live": None, "emptied": 0}
                if rows and density:  # live tuples' share of the heap: the rest is free space, dead rows, headers
                    live = c.execute(text("SELECT tuple_len FROM pgstattuple(CAST(:t AS regclass))"),
                                     {"t": f'public."{name}"'}).scalar()
                    tables[name]["live"] = live / heap if heap else None
            index_rows = []
            for table, index, size, definition in c.execute(text(
                    "SELECT i.tablename, i.indexname, "
                    "pg_relation_size(format('%I.%I', i.schemaname, i.indexname)::regclass), i.indexdef "
                    "FROM pg_indexes i WHERE i.schemaname = 'public' ORDER BY i.tablename, i.indexname")):
                leaf = None
                if density and tables.get(table, {}).get("rows") and " USING btree " in definition:
                    leaf = c.execute(text("SELECT avg_leaf_density FROM pgstatindex(CAST(:i AS regclass))"),
                                     {"i": f'public."{index}"'}).scalar()
                index_rows.append((table, index, size, definition, leaf))
                if leaf is not None and not leaf >= 5 and size > 2 * 8192:
                    # A partial index whose rows have (nearly) all left it (messages sent, codes handed over): its
                    # pages are free, reused as new rows come in; at steady state it holds only what is waiting.
                    tables[table]["emptied"] += size - 2 * 8192
    finally:
        engine.dispose()
    return tables, index_rows


def pgstattuple(url: str) -> bool:
    """The contrib extension that tells live bytes from free space (tables) and leaf fill (B-trees), if it can be."""
    from sqlalchemy import text
    engine = _engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as c:
            c.execute(text("CREATE EXTENSION IF NOT EXISTS pgstattuple"))
        return True
    except Exception as exc:  # not installed on that server, or not a superuser
        print(f"pgstattuple unavailable ({type(exc).__name__}): no live share or leaf density", file=sys.stderr)
        return False
    finally:
        engine.dispose()


def wal_position(url: str) -> tuple[str, int, int]:
    """The WAL's insert position, and the cluster's WAL records and full-page images so far (pg_stat_wal)."""
    from sqlalchemy import text
    engine = _engine(url)
    try:
        with engine.connect() as c:
            lsn = c.execute(text("SELECT pg_current_wal_lsn()::text")).scalar()
            try:
                records, fpi = c.execute(text("SELECT wal_records, wal_fpi FROM pg_stat_wal")).one()
            except Exception:  # before PostgreSQL 14
                records = fpi = -1
            return lsn, records, fpi
    finally:
        engine.dispose()


def wal_bytes(url: str, before: str, after: str) -> int:
    from sqlalchemy import text
    engine = _engine(url)
    try:
        with engine.connect() as c:
            return int(c.execute(text("SELECT pg_wal_lsn_diff(CAST(:a AS pg_lsn), CAST(:b AS pg_lsn))"),
                                 {"a": after, "b": before}).scalar())
    finally:
        engine.dispose()


def settings(url: str) -> dict[str, str]:
    from sqlalchemy import text
    engine = _engine(url)
    try:
        with engine.connect() as c:
            return {name: c.execute(text(f"SHOW {name}")).scalar()
                    for name in ("server_version", "full_page_writes", "wal_level", "wal_compression",
                                 "checkpoint_timeout", "block_size")}
    finally:
        engine.dispose()


def event_lines(bodies: list[str], rng: random.Random) -> list[str]:
    """decision_api's bodies made whole: a random UUID as event_id, and occurred_at spread so that as many events
    share a second as nationally (1 M a day: 11.6), at second precision, for the occurred_at index to be sized so."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    span = max(1, round(len(bodies) * 86400 / EVENTS_A_DAY))
    out = []
    for line in bodies:
        body = json.loads(line + "}")
        body["occurred_at"] = (now - timedelta(seconds=60 + rng.randrange(span))).isoformat()
        body["event_id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        out.append(json.dumps(body, ensure_ascii=False, separators=(",", ":")))
    return out


# What the outbox worker does to a message (app/outbox.py), replayed in PL/pgSQL with its commits: `_claim` takes
# 50 at a time (status sending, one random token for the batch, a 15-minute lease, attempts + 1), then each SMS
# handed over is marked sent with Twilio's SID ("SM" + 32 hex digits) in a transaction of its own (`_delivered`:
# the token stays on the row), each letter printed (`export_letters`); the sealed texts go. The worker itself, with
# no carrier to talk to, would only log them; this leaves the rows as production keeps them, since nothing is
# ever deleted from the outbox. Autovacuum runs meanwhile, as it would.
_DELIVER = """
DO $$
DECLARE batch bigint[]; token text; m record;
BEGIN
  LOOP
    SELECT array_agg(id ORDER BY id) INTO batch FROM (
      SELECT id FROM outbox_message WHERE status = 'queued' ORDER BY id LIMIT 50) AS due;
    EXIT WHEN batch IS NULL;
    token := md5(random()::text);
    UPDATE outbox_message SET status = 'sending', claim_token = token, claimed_at = now() AT TIME ZONE 'utc',
      next_attempt_at = now() AT TIME ZONE 'utc' + interval '15 minutes', attempts = attempts + 1
      WHERE id = ANY (batch);
    COMMIT;
    FOR m IN SELECT id, channel FROM outbox_message WHERE id = ANY (batch) ORDER BY id LOOP
      UPDATE outbox_message SET
        status = CASE WHEN m.channel = 'sms' THEN 'sent' ELSE 'printed' END,
        provider_id = CASE WHEN m.channel = 'sms' THEN 'SM' || md5(random()::text) END,
        sent_at = now() AT TIME ZONE 'utc', sealed_body = NULL, sealed_recipient = NULL
        WHERE id = m.id;
      COMMIT;
    END LOOP;
  END LOOP;
END $$
"""


def mark_delivered(url: str) -> int:
    """Every queued message claimed and handed over as the worker would; returns how many are now sent or printed."""
    from sqlalchemy import text
    engine = _engine(url, isolation_level="AUTOCOMMIT")  # a DO block may COMMIT only outside a transaction
    try:
        with engine.connect() as c:
            c.exec_driver_sql(_DELIVER)
            return c.execute(text("SELECT count(*) FROM outbox_message WHERE status IN ('sent', 'printed')")).scalar()
    finally:
        engine.dispose()


def _record_worker(url: str, lines: list[str], first: int, out) -> None:
    """One process: its share of the events, each through submit_access in its own transaction."""
    from app import create_app
    from app.services.validation import RowErrors, submit_access
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, **SECRETS, "OPERATOR_API_KEY": "bench-operator-key"})
    errors, created, first_error = 0, 0, ""
    with app.app_context():
        from app.extensions import db
        for n, line in enumerate(lines):
            try:
                _event, _decision, was_created = submit_access(json.loads(line), "api")
                created += was_created
            except RowErrors as exc:
                errors += 1
                first_error = first_error or f"event {first + n}: {exc.errors}"
            if n % 1000 == 999:
                db.session.remove()  # a fresh session now and then: the identity map stays small
    out.put((created, errors, first_error))


def record_events(url: str, lines: list[str], processes: int) -> tuple[int, int, list[str]]:
    """The events shared between `processes` forked workers; returns (created, invalid, first errors)."""
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    shares = [lines[i::processes] for i in range(processes)]
    workers = [ctx.Process(target=_record_worker, args=(url, share, i, out)) for i, share in enumerate(shares)]
    for w in workers:
        w.start()
    results = [out.get() for _ in workers]
    for w in workers:
        w.join()
    failed = [f"worker {i} exited {w.exitcode}" for i, w in enumerate(workers) if w.exitcode]
    return (sum(r[0] for r in results), sum(r[1] for r in results), [r[2] for r in results if r[2]] + failed)


def checks(url: str) -> dict[str, int]:
    """Events, the events whose holder wants a message, messages about an event, audit entries of access."""
    from sqlalchemy import text
    engine = _engine(url)
    try:
        with engine.connect() as c:
            return dict(c.execute(text(
                "SELECT (SELECT count(*) FROM access_event) AS events, "
                "(SELECT count(*) FROM access_event e JOIN person p ON p.id = e.person_id "
                " WHERE p.notifications_enabled) AS wanted, "
                "(SELECT count(*) FROM outbox_message WHERE access_event_id IS NOT NULL) AS queued, "
                "(SELECT count(*) FROM audit_entry WHERE action = 'access.recorded') AS audited")).mappings().one())
    finally:
        engine.dispose()


def _mb(n: float) -> str:
    return f"{n / 1e6:10.2f}"


def print_tables(tables: dict[str, dict]) -> None:
    print(f"{'table':22s} {'rows':>9s} {'heap MB':>9s} {'index MB':>9s} {'TOAST MB':>9s} {'total MB':>9s} "
          f"{'B/row heap':>10s} {'index':>6s} {'TOAST':>6s} {'total':>6s} {'live':>5s}")
    shown = [t for t in NAMED if t in tables] + sorted(t for t, v in tables.items() if t not in NAMED and v["rows"])
    for name in shown:
        t = tables[name]
        mb = " ".join(f"{t[k] / 1e6:9.2f}" for k in ("heap", "indexes", "toast", "total"))
        per = (f"{t['heap'] / t['rows']:10.0f} " + " ".join(f"{t[k] / t['rows']:6.0f}" for k in
                                                             ("indexes", "toast", "total"))) if t["rows"] else \
            f"{'-':>10s} {'-':>6s} {'-':>6s} {'-':>6s}"
        live = f"{t['live']:5.0%}" if t.get("live") is not None else f"{'':5s}"
        print(f"{name:22s} {t['rows']:9d} {mb} {per} {live}")
    total = {k: sum(v[k] for v in tables.values()) for k in ("rows", "heap", "indexes", "toast", "total")}
    print(f"{'all tables':22s} {total['rows']:9d} " + " ".join(f"{total[k] / 1e6:9.2f}" for k in
                                                            ("heap", "indexes", "toast", "total")))
    empty = sorted(t for t, v in tables.items() if t not in NAMED and not v["rows"])
    if empty:
        print(f"empty, not shown ({len(empty)}): " + ", ".join(empty))


def print_indexes(tables: dict[str, dict], indexes: list[tuple]) -> list[str]:
    """Each index of a table with rows, its bytes a row, and what stands out; returns the remarks."""
    remarks = []
    print(f"{'table':18s} {'index':40s} {'MB':>8s} {'B/row':>6s} {'leaf fill':>9s}  definition")
    for table, name, size, definition, leaf in indexes:
        rows = tables.get(table, {}).get("rows", 0)
        if not rows:
            continue
        cols = ("UNIQUE " if definition.startswith("CREATE UNIQUE") else "") + definition.split(" USING ", 1)[-1]
        fill = f"{leaf:8.1f}%" if leaf is not None and leaf == leaf else f"{'':9s}"
        print(f"{table:18s} {name:40s} {size / 1e6:8.2f} {size / rows:6.0f} {fill}  {cols}")
    for table, t in tables.items():
        if t["heap"] < 1e6:  # a few pages: an index's metapage and root weigh more than its rows
            continue
        if t["indexes"] > t["heap"]:
            remarks.append(f"{table}: its indexes ({t['indexes'] / 1e6:.1f} MB) outweigh its heap "
                           f"({t['heap'] / 1e6:.1f} MB), {t['indexes'] / t['heap']:.2f}×")
        for _table, name, size, _d, _leaf in (i for i in indexes if i[0] == table):
            if size > t["heap"] / 2:
                remarks.append(f"{table}: index {name} alone is {size / t['heap']:.0%} of the heap "
                               f"({size / t['rows']:.0f} B a row)")
    return remarks


def extrapolate(empty: dict[str, dict], before: dict[str, dict], after: dict[str, dict], people: int,
                events: int) -> list[dict]:
    """Per table: what a person costs and what an event adds. A person: the table's bytes beyond its empty size
    (the pages an empty table and its indexes take), after the enrolment for a table the events grow, after the
    events for one they only update (audit heads); an event: the growth between the two snapshots."""
    out = []
    for name in sorted(after, key=lambda t: (NAMED.index(t) if t in NAMED else len(NAMED), t)):
        z = empty.get(name, {"rows": 0, "total": 0})
        a, b = before.get(name, {"rows": 0, "total": 0}), after[name]
        grows = b["rows"] > a["rows"]
        base = a if grows else b
        person_rows = base["rows"] / people if base["rows"] >= people / 100 else 0.0
        person_bytes = (base["total"] - base.get("emptied", 0) - z["total"]) / people if person_rows else 0.0
        # The same with the heap's free space and dead rows left out (pgstattuple): its rows packed, the floor.
        free = base["heap"] * (1 - base["live"]) if base.get("live") is not None else 0.0
        packed_bytes = (base["total"] - base.get("emptied", 0) - free - z["total"]) / people if person_rows else 0.0
        event_rows = (b["rows"] - a["rows"]) / events if grows else 0.0
        event_bytes = (b["total"] - b.get("emptied", 0) - a["total"] + a.get("emptied", 0)) / events if grows else 0.0
        free_b = b["heap"] * (1 - b["live"]) if b.get("live") is not None else 0.0
        free_a = a["heap"] * (1 - a["live"]) if a.get("live") is not None else 0.0
        event_packed = min(event_bytes, event_bytes - (free_b - free_a) / events) if grows else 0.0
        if not (person_rows or event_rows):
            continue
        out.append({"table": name, "person_rows": person_rows, "person_bytes": person_bytes,
                    "packed_bytes": packed_bytes, "event_packed": event_packed,
                    "person_row_bytes": person_bytes / person_rows if person_rows else 0.0,
                    "event_rows": event_rows, "event_bytes": event_bytes,
                    "event_row_bytes": event_bytes / event_rows if event_rows else 0.0})
    return out


def print_extrapolation(rows: list[dict], wal_per_event: float, wal_per_message: float, messages: float) -> None:
    """GB as measured, and packed (the heaps' free space and dead rows left out: the floor), per table."""
    days = {y: 365 * y for y in YEARS}
    print(f"{'':20s} {'':11s} {'':6s} {'':10s} {'':6s} {'65 M people':>15s}" +
          "".join(f" {f'+ {y} y of events':>15s}" for y in YEARS))
    print(f"{'table':20s} {'rows/person':>11s} {'B/row':>6s} {'rows/event':>10s} {'B/row':>6s} "
          + " ".join(f"{'GB (packed)':>15s}" for _ in range(1 + len(YEARS))))
    sums = {k: [0.0, 0.0] for k in ("people", *YEARS)}

    def cell(pair: list[float]) -> str:
        if not pair[0] and not pair[1]:
            return f"{'-':>15s}"
        return f"{pair[0]:7.1f} ({pair[1]:5.1f})" if pair[0] < 1000 else f"{pair[0]:7.0f} ({pair[1]:5.0f})"

    for r in rows:
        figures = {"people": [NATION * r["person_bytes"] / GB, NATION * r["packed_bytes"] / GB]}
        for y, d in days.items():
            figures[y] = [EVENTS_A_DAY * d * r["event_bytes"] / GB, EVENTS_A_DAY * d * r["event_packed"] / GB]
        for k, pair in figures.items():
            sums[k][0] += pair[0]
            sums[k][1] += pair[1]
        pr = f"{r['person_rows']:11.3f} {r['person_row_bytes']:6.0f}" if r["person_rows"] else f"{'-':>11s} {'':6s}"
        er = f"{r['event_rows']:10.3f} {r['event_row_bytes']:6.0f}" if r["event_rows"] else f"{'-':>10s} {'':6s}"
        print(f"{r['table']:20s} {pr} {er} " + " ".join(cell(figures[k]) for k in ("people", *YEARS)))
    print(f"{'total':20s} {'':11s} {'':6s} {'':10s} {'':6s} " + " ".join(cell(sums[k]) for k in ("people", *YEARS)))
    for y in YEARS:
        whole, packed = sums["people"][0] + sums[y][0], sums["people"][1] + sums[y][1]
        print(f"database after {y} year{'s' if y > 1 else ''}: {sums['people'][0]:.0f} GB for the people + "
              f"{sums[y][0]:.0f} GB of access events, their audit and outbox = {whole:.0f} GB "
              f"({whole * GB / 2 ** 30:.0f} GiB); packed {packed:.0f} GB; before backups, replicas and WAL archive")
    daily = (wal_per_event + wal_per_message * messages) * EVENTS_A_DAY
    print(f"WAL: {daily / GB:.1f} GB a day at {EVENTS_A_DAY:,} events and their messages' delivery "
          f"({daily * 365 / GB:.0f} GB a year to archive, without full-page images)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the database and the work directory")
    args = parser.parse_args()
    server_url = decision_api.postgres_url("storage.py", "the database")
    if server_url is None:
        return 2
    if args.people < 1 or args.events < 1:
        print("--people and --events must be at least 1", file=sys.stderr)
        return 2

    started = time.perf_counter()
    rng = random.Random(args.seed)
    tmp = tempfile.mkdtemp(prefix="relais-storage-")
    problems: list[str] = []
    cpus = len(os.sched_getaffinity(0))
    load_before = os.getloadavg()
    with Database(server_url, args.keep) as database:
        url = database.url
        env = dict(os.environ)
        env.update(DATABASE_URL=url, PYTHONUNBUFFERED="1", **SECRETS)
        for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "SMTP_HOST"):
            env.pop(name, None)  # nothing is sent: the messages wait in the outbox
        pg = settings(url)
        population.flask_cli(env, "db", "upgrade")
        density = pgstattuple(url)
        empty, _ = snapshot(url)
        t0 = time.perf_counter()
        wal0 = wal_position(url)
        people = population.make_people(args.people, rng, window_open_share=1.0)
        cheap = {**env, "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "1024", "ARGON2_PARALLELISM": "1"}
        population.load(cheap, people, tmp, rng, processes=cpus, run_id="storage")
        shaped = decision_api.shape_population(url, people, rng)
        wal1 = wal_position(url)
        enrol_s = time.perf_counter() - t0
        vacuum_analyze(url)
        before, _ = snapshot(url, density)

        bodies = os.path.join(tmp, "bodies.jsonl")
        decision_api.write_bodies(people, bodies, rng, count=args.events)
        lines = event_lines(Path(bodies).read_text(encoding="utf-8").splitlines(), rng)
        wal2 = wal_position(url)
        t1 = time.perf_counter()
        created, invalid, errors = record_events(url, lines, cpus)
        events_s = time.perf_counter() - t1
        wal3 = wal_position(url)
        vacuum_analyze(url)
        queued, _ = snapshot(url, density)
        wal4 = wal_position(url)
        t2 = time.perf_counter()
        delivered = mark_delivered(url)
        deliver_s = time.perf_counter() - t2
        wal5 = wal_position(url)
        vacuum_analyze(url)
        after, indexes = snapshot(url, density)
        counts = checks(url)
        wal_enrol = wal_bytes(url, wal0[0], wal1[0])
        wal_events = wal_bytes(url, wal2[0], wal3[0])
        wal_delivery = wal_bytes(url, wal4[0], wal5[0])
        if args.keep:
            print(f"kept work directory {tmp}")
        else:
            for f in Path(tmp).iterdir():
                f.unlink()
            os.rmdir(tmp)
    load_after = os.getloadavg()

    if invalid:
        problems.append(f"{invalid} events refused as invalid: " + "; ".join(errors))
    elif errors:
        problems.extend(errors)
    if created != args.events or counts["events"] != args.events:
        problems.append(f"{args.events} events submitted, {created} created, {counts['events']} recorded")
    if counts["queued"] != counts["wanted"]:
        problems.append(f"{counts['wanted']} access messages due, {counts['queued']} queued")
    if delivered != after["outbox_message"]["rows"]:
        problems.append(f"{after['outbox_message']['rows']} messages, {delivered} marked handed over")
    if counts["audited"] != counts["events"]:
        problems.append(f"{counts['events']} events recorded, {counts['audited']} 'access.recorded' audit entries")

    print(f"machine: {wl.machine()}")
    print(f"PostgreSQL {pg['server_version']}: full_page_writes={pg['full_page_writes']}, wal_level={pg['wal_level']},"
          f" wal_compression={pg['wal_compression']}, checkpoint_timeout={pg['checkpoint_timeout']}, "
          f"block_size={pg['block_size']}")
    print(f"people:  {args.people} enrolled with `flask enrol` ({cpus} batches at once) and shaped in {enrol_s:.0f} s "
          f"({shaped['active']} active, {shaped['opposed']} opposed, {shaped['closed']} closed, "
          f"{shaped['notified']} in their window; {shaped['blocked']} with a professional blocked)")
    per_event_ms = events_s / max(created, 1) * 1e3 * cpus
    print(f"events:  {created} of {args.events} recorded through submit_access(body, 'api') in {events_s:.0f} s by "
          f"{cpus} processes: {created / events_s:.0f} events a second ({per_event_ms:.1f} ms an event a process)")
    print(f"outbox:  {delivered} messages then claimed and handed over as the outbox worker does (SMS sent with a "
          f"Twilio SID, letters printed), replayed in PL/pgSQL, {deliver_s:.0f} s")
    print(decision_api.load_line(load_before, load_after))
    print()
    print("after the enrolment (VACUUM ANALYZE):")
    print_tables(before)
    print()
    print("after the events and the delivery of their messages (VACUUM ANALYZE):")
    print_tables(after)
    print()
    remarks = print_indexes(after, indexes)
    print()
    ae = after["audit_entry"]["rows"] - before["audit_entry"]["rows"]
    om = after["outbox_message"]["rows"] - before["outbox_message"]["rows"]
    fpi = f", {(wal3[2] - wal2[2]) / args.events:.2f} full-page images" if wal3[2] >= 0 else ""
    records = f" in {(wal3[1] - wal2[1]) / args.events:.1f} WAL records{fpi}" if wal3[1] >= 0 else ""
    print(f"WAL per access event: {wal_events / args.events:.0f} bytes{records} ({wal_events / 1e6:.1f} MB for "
          f"{args.events}); per message handed over (claim and delivery, autovacuum meanwhile): "
          f"{wal_delivery / max(delivered, 1):.0f} bytes; per person enrolled and shaped: "
          f"{wal_enrol / args.people:.0f} bytes")
    print(f"audit entries per access event: {ae / args.events:.3f}; outbox messages per access event: "
          f"{om / args.events:.3f} ({counts['wanted']} holders of the events want one)")
    print(f"audit entries per person at enrolment: {before['audit_entry']['rows'] / args.people:.3f}; outbox messages "
          f"per person at enrolment: {before['outbox_message']['rows'] / args.people:.3f}")
    q, d, e = queued["outbox_message"], after["outbox_message"], before["outbox_message"]
    if om:
        print(f"outbox bytes a message: {(q['total'] - q['emptied'] - e['total']) / om:.0f} as queued, "
              f"{(d['total'] - d['emptied'] - e['total']) / om:.0f} once handed over (Twilio's SID, the claim's "
              f"token and times, and what its two updates leave in the heap and the indexes)")
    emptied = [f"{name} ({t['emptied'] / 1e6:.2f} MB)" for name, t in after.items() if t["emptied"]]
    if emptied:
        print("partial indexes left empty, counted at their steady size (what is waiting), not the pages they "
              "took here: " + ", ".join(emptied))
    if pg["full_page_writes"] == "off":
        print("caveat: full_page_writes is off on this server (scripts/with-postgres.sh): production's WAL also "
              "carries a full 8 kB page image at the first change of each page after every checkpoint")
    for r in remarks:
        print("remark:", r)
    print()
    print(f"extrapolation: {NATION:,} people, {EVENTS_A_DAY:,} access events a day, GB = 10^9 bytes")
    print_extrapolation(extrapolate(empty, before, after, args.people, args.events), wal_events / args.events,
                        wal_delivery / max(delivered, 1), om / args.events)
    print("assumptions: every person costs what the enrolled and shaped people cost here: their person, "
          "health_space, provisional_code and audit_chain rows and their enrolment's audit entries (and any other "
          "table with a row for >= 1 % of them: blocked_professional), each table's bytes beyond its empty size, "
          "free space and dead rows that VACUUM leaves included ('packed': without them, the floor); an event "
          "costs the growth of the tables between the two snapshots (its access_event row, its audit entry, its "
          "outbox message for the holders who want one) divided by the events, indexes and TOAST included; "
          "nothing is ever deleted (no purge of access events, audit entries or sent messages exists); B-tree "
          "fill and TOAST as in this sample; no bloat beyond what VACUUM leaves; tables with a fixed handful of "
          "rows (alembic_version) and the empty ones (staff, callbacks, mandates, reports...) left out.")
    print(f"run time: {time.perf_counter() - started:.0f} s")
    for p in problems:
        print("  problem:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
