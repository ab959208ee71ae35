"""The outbox's sending throughput as production runs it: SMS a second with 1, 2 and 3 `outbox work` processes.

    scripts/with-postgres.sh .venv/bin/python bench/outbox_workers.py [--messages 3000] [--latency-messages 600]
        [--workers 1 2 3] [--latency-ms 0 100] [--people 100] [--seed 1] [--keep]

PostgreSQL only (the workers claim with `FOR UPDATE SKIP LOCKED` and are woken by LISTEN/NOTIFY): it refuses to run
without a `postgresql` DATABASE_URL. On that server it creates a database of its own (`relais_outbox_<pid>`, with
bench/decision_api.py's `Database`; dropped at the end unless `--keep`), migrates it (`flask db upgrade`) and enrols
`--people` people of bench/population.py, each with a mobile (`flask enrol`, cheap argon2: nobody identifies).

Then, for each `--latency-ms` and each `--workers` count, one run:
1. a fake Twilio (tests/fake_twilio.py, a thread of this process on loopback; never the real one) whose every
   Messages call takes `--latency-ms` more (its `delay`; 100 ms mimics a round trip to a real carrier's API);
2. N `flask --app app outbox work` processes, as the Procfile's `worker` runs them, with TWILIO_API_URL pointing at
   the fake; the run waits until each logs `listening on relais_outbox` (their start-up is not timed);
3. a fresh batch of SMS (access notices, each with a reference of its own, to the people in turn) queued with
   `app.outbox.queue` in one transaction of this process; its commit wakes the workers (NOTIFY), and the clock
   starts when the commit returns: `--messages` of them at 0 ms, `--latency-messages` when there is a latency (a
   worker sends one message at a time, so 3,000 at 100 ms would take one worker five minutes);
4. the clock stops when every message of the batch is `sent` in the table (the fake's count first, then the table
   polled every 20 ms); the workers are stopped (SIGTERM to their process group, SIGKILL after 15 s).
Then the checks: every message handed to the fake exactly once (the fake's requests counted by the reference in the
body), each row `sent` with the fake's sid, none left `queued` or `sending`, no look-up at Twilio (no message in
doubt), no warning or traceback in a worker's log, and with N > 1 every worker sent some (its share: the rows
carrying the claim tokens it logged).

Prints the machine, the load average before and after, and per run: workers, latency, messages, seconds,
messages a second, each worker's share, duplicates, lost, the first SMS after the commit, and the CPU a message of
the workers, of PostgreSQL's backends of this database and of this process (the fake Twilio and the poll); then
how 2 and 3 workers compare with 1, and at a latency how near each run came to N × 1000 / latency a second (a
worker waits for each answer). Exits 1 on a duplicate, a lost message, or a worker that sent nothing.

The workers log as production does: the twilio client's own log of every request (11 INFO lines a message, a
look-up's number in them) is kept to its warnings by app/outbox.py since this benchmark found it.
"""
import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))  # tests.fake_twilio
import decision_api  # noqa: E402
import population  # noqa: E402
import webhook_latency as wl  # noqa: E402

from tests.fake_twilio import FakeTwilio  # noqa: E402

SECRET_KEY, LOOKUP_KEY = "bench-secret-key", "bench-lookup-key"
ACCOUNT_SID, AUTH_TOKEN, FROM = "AC" + "1" * 32, "bench-auth-token", "+33900003422"
REF = re.compile(r"Ref (\d{3}) (\d{3}) (\d{3})")
CLAIM = re.compile(r"outbox claim ([0-9a-f]{32}): \d+ message")
QUIET = 60  # seconds without a message handed over before a run gives up: what is left is lost


class Database(decision_api.Database):
    """decision_api's throwaway database, under a name of this benchmark."""

    def __init__(self, server_url: str, keep: bool):
        super().__init__(server_url, keep)
        self.name = f"relais_outbox_{os.getpid()}"
        self.url = self.server.set(database=self.name).render_as_string(hide_password=False)


class Worker:
    """`flask --app app outbox work` in a process group of its own, its log in a file."""

    def __init__(self, env: dict, log: Path):
        self.log = log
        command = ["-m", "flask", "--app", "app", "outbox", "work"]
        with open(log, "w") as out:
            self.process = subprocess.Popen([sys.executable, *command],
                                            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.output:
            if self.process.poll() is not None:
                raise SystemExit(f"an outbox worker stopped:\n{self.output[-3000:]}")
            if time.monotonic() > deadline:
                raise SystemExit(f"no {text!r} from an outbox worker after {seconds:g} s:\n{self.output[-3000:]}")
            time.sleep(0.05)

    def cpu(self) -> float:
        return wl.cpu_seconds(self.process.pid)

    def stop(self) -> None:
        wl.stop(self.process)


def worker_env(database_url: str, twilio_url: str) -> dict:
    if not twilio_url.startswith("http://127.0.0.1:"):
        raise SystemExit(f"refusing to send anywhere but the local fake Twilio ({twilio_url})")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY,
           "LOOKUP_KEY": LOOKUP_KEY, "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
           "TWILIO_FROM_NUMBER": FROM, "TWILIO_API_URL": twilio_url,
           "PUBLIC_BASE_URL": "https://relais.bench.invalid"}  # the status callback Twilio is given (never called)
    env.pop("SMTP_HOST", None)
    return env


def queue_batch(app, run_no: int, count: int, rng: random.Random) -> tuple[int, int, dict[str, str], float, tuple]:
    """`count` access notices in one transaction, to the people in turn; returns the first and last ids, each
    reference's recipient, the seconds the queueing and its commit took, and when the commit was done
    (perf_counter, time): at once in `after_commit`, before the session expires its 3,000 rows, which takes a
    while and during which the workers, woken, already send."""
    from sqlalchemy import event

    from app import outbox
    from app.models import Person, db
    from app.text import format_reference
    start = time.perf_counter()
    with app.app_context():
        people = db.session.scalars(db.select(Person).where(Person.phone.is_not(None)).order_by(Person.id)).all()
        messages = []
        for i in range(count):
            person = people[i % len(people)]
            name, profession, _organisation, _rpps = rng.choice(population.PROFESSIONALS)
            reference = f"{100_000_000 + run_no * 1_000_000 + i}"
            body = (f"Relais : {name} ({profession}) a ouvert votre espace santé le 02/12 "
                    f"{rng.randrange(7, 20):02d}:{rng.randrange(60):02d}. Inconnu ? Répondez SIGNALER. "
                    f"Pour bloquer : BLOQUER. Ref {format_reference(reference)}")
            messages.append(outbox.queue(person, body, reference))
        db.session.flush()  # the ids, read before the commit expires every row (reading them after is a SELECT each)
        sent_to = {m.reference: m.recipient for m in messages}
        first, last = min(m.id for m in messages), max(m.id for m in messages)
        session, marks = db.session(), []

        def committed(_session) -> None:
            marks.append((time.perf_counter(), time.time()))
        event.listen(session, "after_commit", committed)
        try:
            db.session.commit()
        finally:
            event.remove(session, "after_commit", committed)
    return first, last, sent_to, time.perf_counter() - start, marks[0]


def pending(engine, first: int, last: int) -> int:
    from sqlalchemy import text
    with engine.connect() as c:
        return c.execute(text("SELECT count(*) FROM outbox_message WHERE id BETWEEN :a AND :b AND status <> 'sent'"),
                         {"a": first, "b": last}).scalar()


def wait_until_sent(engine, fake: FakeTwilio, first: int, last: int) -> float | None:
    """perf_counter() when every message of the batch is `sent`; None when nothing moved for QUIET seconds."""
    count, seen, moved = last - first + 1, 0, time.perf_counter()
    while True:
        now = time.perf_counter()
        handed = len(fake.sent)
        if handed != seen:
            seen, moved = handed, now
        if handed >= count and pending(engine, first, last) == 0:
            return time.perf_counter()
        if now - moved > QUIET:
            return None
        time.sleep(0.02)


def one_run(run_no: int, workers: int, latency_ms: float, count: int, app, engine, database, tmp: str,
            rng: random.Random, problems: list[str]) -> dict:
    from sqlalchemy import text
    label = f"{workers} worker(s), {latency_ms:g} ms"
    fake = FakeTwilio().start()
    fake.delay = latency_ms / 1000
    env = worker_env(database.url, fake.url)
    backends = decision_api.Backends(database.url, database.name)
    started: list[Worker] = []
    try:
        t0 = time.perf_counter()
        started = [Worker(env, Path(tmp) / f"run{run_no}-worker{i}.log") for i in range(workers)]
        for w in started:
            w.wait_for("listening on relais_outbox")
        start_up = time.perf_counter() - t0
        first, last, sent_to, queued_s, (committed, committed_wall) = queue_batch(app, run_no, count, rng)
        cpu0, pg0, own0 = [w.cpu() for w in started], backends.cpu(), time.process_time()
        done = wait_until_sent(engine, fake, first, last)
        cpu1, pg1, own1 = [w.cpu() for w in started], backends.cpu(), time.process_time()
    finally:
        for w in started:
            w.stop()
        backends.close()
        fake.stop()
    seconds = (done or time.perf_counter()) - committed
    if done is None:
        problems.append(f"{label}: nothing handed over for {QUIET} s; stopped waiting")

    with engine.connect() as c:
        rows = c.execute(text("SELECT reference, status, claim_token, provider_id, recipient FROM outbox_message "
                              "WHERE id BETWEEN :a AND :b"), {"a": first, "b": last}).all()
    handed = Counter("".join(m.groups()) if (m := REF.search(r.get("Body", ""))) else "?" for r in fake.sent)
    duplicates = sum(n - 1 for n in handed.values() if n > 1)
    strays = sum(n for ref, n in handed.items() if ref not in sent_to)
    lost = sum(1 for r in rows if r.status != "sent" or r.reference not in handed)
    left = Counter(r.status for r in rows if r.status != "sent")
    wrong_to = sum(1 for r in fake.sent if (m := REF.search(r.get("Body", "")))
                   and sent_to.get("".join(m.groups())) != r.get("To"))
    sids = {r["sid"] for r in fake.sent}
    unmatched = sum(1 for r in rows if r.status == "sent" and r.provider_id not in sids)
    by_token = Counter(r.claim_token for r in rows)
    shares = [sum(by_token[t] for t in set(CLAIM.findall(w.output))) for w in started]
    first_sms = min((r["date_created"].timestamp() for r in fake.sent), default=float("nan")) - committed_wall

    if duplicates:
        problems.append(f"{label}: {duplicates} message(s) handed to Twilio more than once")
    if lost:
        problems.append(f"{label}: {lost} message(s) not sent ({dict(left)} left)")
    if strays or wrong_to or unmatched:
        problems.append(f"{label}: {strays} unknown request(s) at the fake, {wrong_to} to the wrong number, "
                        f"{unmatched} row(s) whose sid the fake never gave")
    if fake.lookups:
        problems.append(f"{label}: {len(fake.lookups)} look-up(s) at Twilio (messages in doubt)")
    if workers > 1 and not all(shares):
        problems.append(f"{label}: a worker sent nothing (shares {shares})")
    if sum(shares) != len(rows) and not lost:
        problems.append(f"{label}: the workers' logged claims cover {sum(shares)} of {len(rows)} messages")
    for i, w in enumerate(started):
        bad = [line for line in w.output.splitlines() if " WARNING " in line or " ERROR " in line
               or "Traceback" in line]
        if bad:
            problems.append(f"{label}: worker {i} logged {len(bad)} warning(s)/error(s), first: {bad[0][:200]}")
    sent = len(rows) - lost
    per = 1000 / sent if sent else float("nan")
    return dict(workers=workers, latency=latency_ms, messages=len(rows), seconds=seconds,
                rate=sent / seconds if seconds else float("nan"), shares=shares, duplicates=duplicates, lost=lost,
                first_ms=first_sms * 1000, start_up=start_up, queued_s=queued_s,
                worker_ms=sum(b - a for a, b in zip(cpu0, cpu1)) * per,
                pg_ms=decision_api.Backends.used(pg0, pg1) * per, own_ms=(own1 - own0) * per)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000, help="SMS a run at 0 ms of latency")
    parser.add_argument("--latency-messages", type=int, default=600,
                        help="SMS a run when there is a latency (0: as --messages)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3], help="worker processes at once")
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[0, 100],
                        help="milliseconds the fake Twilio adds to each call")
    parser.add_argument("--people", type=int, default=100, help="people enrolled (the messages go to them in turn)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the database and the workers' logs")
    args = parser.parse_args()
    server_url = decision_api.postgres_url("outbox_workers.py",
                                           "the outbox workers (SKIP LOCKED claims, LISTEN/NOTIFY)")
    if server_url is None:
        return 2

    from sqlalchemy import create_engine

    from app import create_app
    rng = random.Random(args.seed)
    tmp = tempfile.mkdtemp(prefix="relais-outbox-")
    problems: list[str] = []
    runs: list[dict] = []
    began, load_before = time.perf_counter(), os.getloadavg()
    with Database(server_url, args.keep) as database:
        env = {**os.environ, "DATABASE_URL": database.url, "SECRET_KEY": SECRET_KEY, "LOOKUP_KEY": LOOKUP_KEY,
               "PYTHONUNBUFFERED": "1"}
        for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_URL", "SMTP_HOST"):
            env.pop(name, None)
        population.flask_cli(env, "db", "upgrade")
        people = population.make_people(args.people, rng, window_open_share=1.0, mobile_share=1.0, email_share=0.0)
        cheap = {**env, "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "1024", "ARGON2_PARALLELISM": "1"}
        population.load(cheap, people, tmp, rng, processes=len(os.sched_getaffinity(0)), run_id="outbox")
        setup_s = time.perf_counter() - began
        # This process queues as an action of the app would: the same code, the same transaction, the NOTIFY after.
        app = create_app({"SQLALCHEMY_DATABASE_URI": database.url, "SECRET_KEY": SECRET_KEY,
                          "LOOKUP_KEY": LOOKUP_KEY, "TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""})
        engine = create_engine(decision_api._psycopg_url(database.url))
        try:
            for latency in args.latency_ms:
                count = args.latency_messages if latency and args.latency_messages else args.messages
                for workers in args.workers:
                    runs.append(one_run(len(runs), workers, latency, count, app, engine, database, tmp, rng,
                                        problems))
                    r = runs[-1]
                    print(f"  {workers} worker(s), {latency:g} ms: {r['messages']} in {r['seconds']:.1f} s "
                          f"({r['rate']:.0f}/s)", file=sys.stderr, flush=True)
        finally:
            engine.dispose()
            with app.app_context():
                from app.models import db
                db.engine.dispose()  # the database is dropped next: no connection of this process left on it
            if not args.keep:
                shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()

    print(f"machine: {wl.machine()}")
    print(f"PostgreSQL {decision_api._pg_version(server_url)}; `flask --app app outbox work` processes, claims of "
          f"50 (FOR UPDATE SKIP LOCKED), woken by NOTIFY; fake Twilio in this process on loopback")
    print(f"setup:   {args.people} people enrolled in {setup_s:.0f} s; worker start-up (to `listening`, not timed) "
          f"{min(r['start_up'] for r in runs):.1f}–{max(r['start_up'] for r in runs):.1f} s; a batch queued and "
          f"committed in {min(r['queued_s'] for r in runs):.1f}–{max(r['queued_s'] for r in runs):.1f} s")
    print(decision_api.load_line(load_before, load_after) + " (other programs on the machine skew the figures)")
    print()
    print(f"{'workers':>7s} {'latency':>7s} {'messages':>8s} {'seconds':>7s} {'msg/s':>6s}  {'per worker':18s} "
          f"{'dup':>3s} {'lost':>4s} {'1st SMS':>7s}  CPU ms a message: workers + PostgreSQL + fake")
    for r in runs:
        shares = "/".join(str(s) for s in r["shares"])
        print(f"{r['workers']:7d} {r['latency']:5g} ms {r['messages']:8d} {r['seconds']:7.1f} {r['rate']:6.0f}  "
              f"{shares:18s} {r['duplicates']:3d} {r['lost']:4d} {r['first_ms']:4.0f} ms  "
              f"{r['worker_ms']:.2f} + {r['pg_ms']:.2f} + {r['own_ms']:.2f}")
    print()
    for latency in args.latency_ms:
        base = next((r for r in runs if r["latency"] == latency and r["workers"] == 1), None)
        for r in runs:
            if r["latency"] != latency:
                continue
            line = f"{r['workers']} worker(s) at {latency:g} ms: {r['rate']:.0f} messages/s"
            if base and r is not base:
                line += f", {r['rate'] / base['rate']:.2f}× one worker"
            if latency:
                ceiling = r["workers"] * 1000 / latency
                line += f"; {r['rate'] / ceiling:.0%} of {ceiling:g}/s (N × 1000 / latency: one call at a time)"
            print(line)
    print(f"whole run: {time.perf_counter() - began:.0f} s")
    for p in problems:
        print("  problem:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
