"""The scheduled jobs at scale: reminders, window ends, purges, code expiries and mandate ends a second.

    .venv/bin/python bench/jobs.py [--people 20000] [--machines 1 2] [--chunk 1000] [--send]
    scripts/with-postgres.sh .venv/bin/python bench/jobs.py      # adds PostgreSQL, in a database of its own

For each database (a SQLite file in a temporary directory; PostgreSQL when DATABASE_URL says so, in a database
`relais_bench_jobs` created beside DATABASE_URL's and dropped at the end) and each number of machines:

1. A fresh database, migrated (`flask db upgrade`, through flask_migrate), then people inserted directly, in bulk
   (not through `enrol`: the jobs are measured, not the import): `--people` whose opposition window ends in 14 days
   (a reminder each), as many whose window ended yesterday (a creation each, and their letter codes expired: a
   code voided each), a tenth as many closed spaces due for purge (half of them asked for the deletion, and are
   told), a tenth as many guardianships (tutelle) whose last day was yesterday (an end each, told to both). Of
   the people, 90 % have a mobile (one in 17 of those opted out at Twilio: a letter instead), 5 % an e-mail only,
   the rest nothing (a letter); one in ten reads English; one in 20 lives overseas (Martinique, La Réunion).
2. `--machines` processes start `spaces.run_jobs(today)` at the same moment, as `flask jobs run` on as many
   machines would (the clock frozen at 11:00 UTC: the same date in Paris and overseas). Each step of the run
   (`send_reminders`, `create_due`, `purge_due`, `void_expired_codes`, `end_idle_sessions`, `end_expired`,
   `outbox.send_due`) is timed in each process; the sending is skipped unless `--send` (it is the outbox's work:
   one claim and one commit a message).
3. The counts are checked: every reminder, creation, purge, code and mandate end done exactly once over all
   the machines (receipts, their keys and their messages counted in the database), or the script exits 1.
4. `run_jobs` once more: nothing is due, so what it costs is finding that out.

It prints the machine and the load average before and after, then per database and machines the setup time,
and per step the count, the seconds (from the first machine's start to the last one's end) and the rate.
"""
import argparse
import multiprocessing
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_NAME = "relais_bench_jobs"
CONFIG = {"SECRET_KEY": "bench-secret-key", "LOOKUP_KEY": "bench-lookup-key", "TWILIO_ACCOUNT_SID": "",
          "TWILIO_AUTH_TOKEN": ""}
STEPS = [("reminders", "spaces", "send_reminders"), ("creations", "spaces", "create_due"),
         ("purges", "spaces", "purge_due"), ("codes voided", "spaces", "void_expired_codes"),
         ("sessions ended", "spaces", "end_idle_sessions"), ("mandates ended", "spaces", "end_expired"),
         ("sent", "outbox", "send_due")]


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "?")
    return f"{len(os.sched_getaffinity(0))} CPUs ({model}), {platform.system()} {platform.release()}, " \
           f"Python {platform.python_version()}"


def load_average() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def frozen_now() -> datetime:
    return datetime.combine(date.today(), datetime.min.time()) + timedelta(hours=11)


def make_app(url: str):
    import logging

    from app import create_app
    app = create_app({**CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    for name in ("relais.outbox", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return app


# --- the people ---------------------------------------------------------------------------------------------

def person_row(i: int, now: datetime) -> dict:
    overseas = i % 20 == 7
    zone, postal = (("America/Martinique", "97200") if i % 40 == 7 else ("Indian/Reunion", "97400")) \
        if overseas else (None, f"{75001 + i % 20:05d}")
    kind = i % 20
    phone = None if kind in (0, 1) else \
        (f"+596696{i % 1_000_000:06d}" if zone == "America/Martinique" else
         f"+262692{i % 1_000_000:06d}" if zone else f"+336{i % 100_000_000:08d}")
    return {"id": i, "nir_lookup": f"bench-{i:058d}", "vitale_hash": "bench", "family_name": "Martin",
            "given_name": "Jeanne", "birth_date": date(1950, 1, 1) + timedelta(days=i % 15000), "phone": phone,
            "phone_lookup": None, "email": f"p{i}@example.org" if kind == 0 else None,
            "language": "en" if i % 10 == 3 else "fr", "notifications_enabled": True, "created_at": now,
            "autonomous_on": None, "postal_code": postal, "time_zone": zone,
            "sms_blocked_at": now if i % 17 == 5 and phone else None, "discreet_notices": False}


def populate(app, n: int) -> dict:
    """The people of the docstring, inserted in bulk; returns what one run of the jobs must do."""
    from app import clock
    from app.models import HealthSpace, Mandate, Person, ProvisionalCode, db
    c = app.config
    today, now = clock.today(), clock.now()
    window, valid = c["OPPOSITION_WINDOW_DAYS"], c["PROVISIONAL_CODE_VALID_DAYS"]
    reminded = range(1, n + 1)
    ended = range(n + 1, 2 * n + 1)
    purged = range(2 * n + 1, 2 * n + n // 10 + 1)
    people, spaces, codes = [], [], []
    for i in [*reminded, *ended, *purged]:
        people.append(person_row(i, now))
        if i in reminded:
            letter = today - timedelta(days=window - 14)   # the window's last day: in 14 days
        elif i in ended:
            letter = today - timedelta(days=window + 1)    # the window's last day: yesterday
        else:
            letter = today - timedelta(days=400)
        space = {"person_id": i, "state": "notified", "letter_sent_on": letter,
                 "window_ends_on": letter + timedelta(days=window), "samu_access": True, "break_glass_access": True,
                 "masked_in_emergency": False, "closed_at": None, "archive_until": None, "deletion_due_on": None}
        if i in purged:
            asked = i % 2 == 0
            space.update(state="closed", closed_at=now - timedelta(days=200),
                         archive_until=today - timedelta(days=1) if not asked else today + timedelta(days=3000),
                         deletion_due_on=today - timedelta(days=1) if asked else None)
        spaces.append(space)
        codes.append({"person_id": i, "code_hash": "bench", "keypad_hash": "bench", "issued_at": now,
                      "expires_on": letter + timedelta(days=valid), "used_at": None,
                      "voided_at": None})
        if i in purged:
            codes[-1]["used_at"] = now - timedelta(days=390)
    mandates = [{"representative_id": reminded[k], "represented_id": ended[k], "kind": "tutelle",
                 "valid_from": today - timedelta(days=365), "valid_until": today - timedelta(days=1),
                 "created_at": now} for k in range(n // 10)]
    with app.app_context():
        for model, rows in ((Person, people), (HealthSpace, spaces), (ProvisionalCode, codes), (Mandate, mandates)):
            for start in range(0, len(rows), 5000):
                db.session.execute(db.insert(model.__table__), rows[start:start + 5000])
        if db.engine.dialect.name == "postgresql":  # ids given explicitly: move the sequence past them
            db.session.execute(db.text("SELECT setval(pg_get_serial_sequence('person', 'id'), :n)"),
                               {"n": len(people)})
            db.session.execute(db.text("ANALYZE"))
        db.session.commit()
    return {"reminders": n, "creations": n, "purges": n // 10, "codes voided": n, "mandates ended": n // 10,
            "told of a deletion": len([i for i in purged if i % 2 == 0])}


# --- one machine ----------------------------------------------------------------------------------------------

def one_machine(url: str, chunk: int, send: bool, start, out) -> None:
    """What `flask jobs run` does on one machine, each step timed (CLOCK_MONOTONIC: comparable across processes)."""
    from app import clock, outbox
    from app.services import batch, spaces
    app = make_app(url)
    batch.CHUNK = chunk
    clock.freeze(frozen_now())
    timings = {}

    def timed(label, module, name):
        real = getattr(module, name)

        def run(*args, **kwargs):
            began = time.monotonic()
            result = real(*args, **kwargs) if send or name != "send_due" else 0
            timings[label] = (began, time.monotonic(), result)
            return result
        setattr(module, name, run)
    for label, module, name in STEPS:
        timed(label, {"spaces": spaces, "outbox": outbox}[module], name)
    with app.app_context():
        start.wait()
        began = time.monotonic()
        counts = spaces.run_jobs(clock.today())
        finished = time.monotonic()
    out.put({"timings": timings, "counts": counts, "run": (began, finished)})


def run_machines(url: str, machines: int, chunk: int, send: bool) -> list[dict]:
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Barrier(machines), ctx.Queue()
    procs = [ctx.Process(target=one_machine, args=(url, chunk, send, start, out)) for _ in range(machines)]
    for p in procs:
        p.start()
    results = [out.get(timeout=3600) for _ in procs]
    for p in procs:
        p.join()
    if any(p.exitcode for p in procs):
        raise SystemExit("a machine failed")
    return results


def check(app, expected: dict) -> list[str]:
    """Everything once: receipts, their keys and messages counted in the database."""
    from app.models import ActionRecord, HealthSpace, Mandate, OutboxMessage, ProvisionalCode, db
    problems = []
    with app.app_context():
        def count(stmt):
            return db.session.scalar(db.select(db.func.count()).select_from(stmt.subquery()))
        reminders = count(db.select(ActionRecord.id).where(ActionRecord.action == "reminder.sent"))
        keys = count(db.select(ActionRecord.idempotency_key).where(ActionRecord.action == "reminder.sent")
                     .distinct())
        found = {
            "reminders": reminders,
            "creations": count(db.select(HealthSpace.person_id).where(HealthSpace.state == "active")),
            "purges": count(db.select(ActionRecord.id).where(ActionRecord.action == "space.purged")),
            "codes voided": count(db.select(ProvisionalCode.id).where(
                ProvisionalCode.voided_at.is_not(None), ProvisionalCode.expires_on < date.today())),
            "mandates ended": count(db.select(Mandate.id).where(Mandate.end_reason == "expired")),
        }
        for label, n in found.items():
            if n != expected[label]:
                problems.append(f"{label}: {n} in the database, {expected[label]} expected")
        if keys != reminders:
            problems.append(f"reminders: {reminders} receipts for {keys} keys")
        per_reference = db.select(OutboxMessage.reference, db.func.count().label("n")).group_by(
            OutboxMessage.reference)
        twice = count(per_reference.having(db.func.count() > 2))
        if twice:
            problems.append(f"{twice} references with more than two messages")
        messages = count(db.select(OutboxMessage.id))
        want = reminders + expected["told of a deletion"] + 2 * expected["mandates ended"]
        if messages != want:
            problems.append(f"{messages} messages queued, {want} expected")
        by_channel = dict(db.session.execute(db.select(OutboxMessage.channel, db.func.count())
                                             .group_by(OutboxMessage.channel)).all())
    print(f"    messages by channel: {by_channel}")
    return problems


# --- databases ----------------------------------------------------------------------------------------------------

def fresh_postgresql(base_url: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    url = make_url(base_url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {DB_NAME}"))
        c.execute(text(f"CREATE DATABASE {DB_NAME}"))
    admin.dispose()
    return url.set(database=DB_NAME).render_as_string(hide_password=False)


def drop_postgresql(base_url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    admin = create_engine(make_url(base_url.replace("postgresql://", "postgresql+psycopg://", 1)),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {DB_NAME}"))
    admin.dispose()


def bench(name: str, url: str, args, machines: int) -> bool:
    import logging

    from flask_migrate import upgrade

    from app import clock
    from app.models import db
    from app.services import spaces
    clock.freeze(frozen_now())
    app = make_app(url)
    began = time.monotonic()
    with app.app_context():
        logging.getLogger("alembic").setLevel(logging.WARNING)
        upgrade()
    expected = populate(app, args.people)
    with app.app_context():
        db.engine.dispose()  # the machines open their own connections
    print(f"\n{name}, {machines} machine{'s' if machines > 1 else ''} at once, {args.people:,} + {args.people:,} "
          f"people, chunks of {args.chunk}: setup {time.monotonic() - began:.1f} s; {load_average()}")
    results = run_machines(url, machines, args.chunk, args.send)
    print(f"    {'step':16s} {'count':>8s} {'seconds':>8s} {'per second':>11s}   per machine")
    for label, *_ in STEPS:
        spans = [r["timings"][label] for r in results]
        total = sum(s[2] for s in spans)
        seconds = max(s[1] for s in spans) - min(s[0] for s in spans)
        rate = f"{total / seconds:,.0f}" if total and seconds > 0 else "-"
        shown = "not run (--send)" if label == "sent" and not args.send else f"{total:,}"
        print(f"    {label:16s} {shown:>8s} {seconds:8.2f} {rate:>11s}   "
              + ", ".join(f"{s[2]:,} in {s[1] - s[0]:.2f} s" for s in spans))
    wall = max(r["run"][1] for r in results) - min(r["run"][0] for r in results)
    print(f"    whole run_jobs: {wall:.2f} s; {load_average()}")
    problems = check(app, expected)
    for p in problems:
        print(f"    NOT ONCE: {p}")
    if not problems:
        print("    every reminder, creation, purge, code and mandate end done exactly once")
    from app import outbox
    send_due = outbox.send_due
    if not args.send:
        outbox.send_due = lambda limit=100: 0
    with app.app_context():
        again = time.monotonic()
        counts = spaces.run_jobs(clock.today())
        print(f"    run_jobs again, nothing due: {time.monotonic() - again:.2f} s "
              f"({', '.join(f'{k} {v}' for k, v in counts.items() if v) or 'nothing done'})")
        db.session.remove()
        db.engine.dispose()
    outbox.send_due = send_due
    return not problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=20_000, help="people reminded, and as many created")
    parser.add_argument("--machines", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--chunk", type=int, default=1000, help="candidates a transaction (app/services/batch.py)")
    parser.add_argument("--send", action="store_true", help="also time outbox.send_due (10,000 messages at most)")
    args = parser.parse_args()
    print(f"machine: {machine()}; {load_average()}")
    pg_url = os.environ.get("DATABASE_URL", "")
    ok = True
    tmp = tempfile.mkdtemp(prefix="relais-jobs-")
    try:
        for machines in args.machines:
            path = os.path.join(tmp, f"jobs-{machines}.db")
            ok &= bench("SQLite", f"sqlite:///{path}", args, machines)
        if pg_url.startswith("postgresql"):
            for machines in args.machines:
                ok &= bench("PostgreSQL", fresh_postgresql(pg_url), args, machines)
            drop_postgresql(pg_url)
        else:
            print("\n(no PostgreSQL DATABASE_URL: run under scripts/with-postgres.sh to add it)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{load_average()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
