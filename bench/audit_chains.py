"""The audit log's chains per person: audited transactions a second with 1, 2 and 4 processes, about different
people and all about one person; then `audit verify` over many entries: entries a second and peak memory.

    .venv/bin/python bench/audit_chains.py [--seconds 5] [--entries 1000000] [--people 200000]
    scripts/with-postgres.sh .venv/bin/python bench/audit_chains.py       # on PostgreSQL

1. Appends. Each process creates the app on DATABASE_URL (a fresh SQLite file when it is not set) and, for
   `--seconds`, commits transactions of one audited entry each (`audit.append`, as an action or an access
   decision does): "different people" takes a person of its own for each transaction (each process its own
   range), "one person" has every process write about person 1 — the only case that still queues, by design:
   two writes about the same person stay in order. Before per-person chains, every audited transaction in the
   country locked one head row (PostgreSQL, same machine: 1,138–1,277 transactions/s with 1 process, 409–721/s
   with 4: docs/national-scale.md).
2. Verification. `--entries` entries over `--people` chains are written with `audit.append_many` in chunks of
   10,000, then sealed (`audit.seal`: the signed Merkle root) twice (the second time nothing is new: a seal
   reads every chain's head, so its cost follows the number of chains, not what changed), then `audit.check()`
   runs in a process of its own and prints entries a second and that process's peak resident memory
   (ru_maxrss): it reads a page of 5,000 rows at a time, so memory does not grow with the log.
"""
import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = {"SECRET_KEY": "bench-secret-key", "LOOKUP_KEY": "bench-lookup-key"}


def _app(url: str):
    from app import create_app
    return create_app({**CONFIG, "SQLALCHEMY_DATABASE_URI": url})


def _appends(url: str, seconds: float, first_person: int | None, out) -> None:
    from app import audit
    from app.models import db
    app = _app(url)
    n = 0
    with app.app_context():
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            person = 1 if first_person is None else first_person + n
            audit.append(f"person:{person}", f"person:{person}", "bench.append", "web", n=n)
            db.session.commit()
            n += 1
    out.put(n)


def append_rates(url: str, seconds: float) -> list[tuple[str, int, float]]:
    ctx = multiprocessing.get_context("spawn")
    rates = []
    for kind in ("different people", "one person"):
        for procs in (1, 2, 4):
            q = ctx.Queue()
            ps = [ctx.Process(target=_appends, args=(url, seconds, None if kind == "one person" else
                                                     (10_000_000 * (i + 1) + procs * 1_000_000), q))
                  for i in range(procs)]
            for p in ps:
                p.start()
            total = sum(q.get(timeout=seconds + 120) for _ in ps)
            for p in ps:
                p.join()
            rates.append((kind, procs, total / seconds))
    return rates


def _build(url: str, entries: int, people: int) -> None:
    from app import audit
    from app.models import db
    app = _app(url)
    with app.app_context():
        done = 0
        while done < entries:
            n = min(10_000, entries - done)
            audit.append_many(("system", f"person:{(done + i) % people + 1}", "reminder.sent", "job",
                               {"days": 14}) for i in range(n))
            db.session.commit()
            done += n


def _seal(url: str, out) -> None:
    from app import audit
    app = _app(url)
    with app.app_context():
        start = time.monotonic()
        root = audit.seal()
        out.put((time.monotonic() - start, root.chains, root.entries))


def _check(url: str, out) -> None:
    from app import audit
    app = _app(url)
    with app.app_context():
        start = time.monotonic()
        report = audit.check()
        elapsed = time.monotonic() - start
    out.put((elapsed, report.ok, report.entries, report.chains, report.problem,
             resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def _in_process(target, *args):
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    result = q.get(timeout=3600)
    p.join()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5, help="seconds per append measurement (0: skip)")
    parser.add_argument("--entries", type=int, default=1_000_000, help="entries to verify (0: skip)")
    parser.add_argument("--people", type=int, default=200_000, help="chains the entries are spread over")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="relais-audit-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/audit.db"
    name = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    os.environ["DATABASE_URL"] = url
    import subprocess
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine, text
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"], cwd=ROOT, check=True,
                   capture_output=True, env={**os.environ, **CONFIG})
    print(f"audit chains on {name}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}")
    if args.seconds:
        for kind, procs, rate in append_rates(url, args.seconds):
            print(f"  appends, {kind:16s} {procs} process{'es' if procs > 1 else '  '}: {rate:7.0f} audited "
                  "transactions/s")
    if args.entries:
        start = time.monotonic()
        _in_process_build = multiprocessing.get_context("spawn").Process(target=_build,
                                                                        args=(url, args.entries, args.people))
        _in_process_build.start()
        _in_process_build.join()
        built = time.monotonic() - start
        print(f"  wrote {args.entries:,} entries over {args.people:,} chains with append_many in {built:.1f} s "
              f"({args.entries / built:,.0f} entries/s)")
        seconds, chains, entries = _in_process(_seal, url)
        print(f"  seal: {chains:,} chains, {entries:,} entries in {seconds:.1f} s")
        # Again, nothing new: what a seal costs however little changed (it hashes every chain's head).
        seconds, chains, entries = _in_process(_seal, url)
        print(f"  seal again, nothing new: {chains:,} chains in {seconds:.1f} s ({chains / seconds:,.0f} chains/s)")
        seconds, ok, entries, chains, problem, rss = _in_process(_check, url)
        print(f"  verify: {'intact' if ok else 'BROKEN: ' + str(problem)}, {entries:,} entries in {chains:,} "
              f"chains in {seconds:.1f} s ({entries / seconds:,.0f} entries/s); peak resident memory of the "
              f"verifying process {rss:.0f} MB")
    print(f"load average after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
