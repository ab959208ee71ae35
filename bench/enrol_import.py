"""Rows a second and peak memory of the mailing batch import (`flask --app app enrol`), on SQLite and PostgreSQL.

    .venv/bin/python bench/enrol_import.py [--rows 100000] [--chunk 1000] [--memory-rows 0]
    scripts/with-postgres.sh .venv/bin/python bench/enrol_import.py      # adds PostgreSQL (DATABASE_URL)

For each database (a fresh SQLite file in a temporary directory; PostgreSQL when DATABASE_URL is set, emptied
first with `flask db downgrade base`):

1. writes a batch of `--rows` valid rows (distinct valid NIRs, a mobile on two rows of three, an e-mail on one
   of four, the optional postal_code column with some overseas codes) to a CSV file, outside the timing;
2. migrates the schema (`flask --app app db upgrade`);
3. runs `flask --app app enrol BATCH.csv --codes-out CODES.csv` as a child process, as an operator would (stderr
   not a terminal: the plain progress lines), with production argon2 parameters (ARGON2_* removed; the import
   makes no argon2 hash at all) and timed on the wall clock; its peak resident memory is its own VmHWM
   (/proc/self/status, read as it exits: a child's ru_maxrss would count the pages of its parent too);
4. checks the result: exit 0, one person, one space, one code and one audit entry per row, one CODES.csv line per
   row, no code left sealed, and 20 codes picked at random identify their person (identity.identify, web form);
5. runs the same command again (the batch "already enrolled", nothing written): rows a second of a resumed run.

`--memory-rows N` (e.g. 1000000) adds one more import of N rows on SQLite, for the peak memory of a batch that
size (the target is under 300 MB resident), with its rows a second.

Prints the machine and the load average before and after, then per database: rows, seconds, rows a second,
peak RSS, the second run's rows a second, against the targets of /work/shared/QUALITY.md §4 (≥ 1,000 rows a
second on both databases; bounded memory).
"""
import argparse
import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _server import load_average, machine  # noqa: E402
from stdnum.fr.nir import calc_check_digits  # noqa: E402

for _name in [n for n in os.environ if n.startswith("ARGON2_")]:
    del os.environ[_name]  # production parameters: the import must not need argon2 to be fast

FLASK = str(ROOT / ".venv" / "bin" / "flask")
HEADER = ["nir", "vitale_serial", "family_name", "given_name", "birth_date", "phone", "email", "language",
          "letter_sent_on", "postal_code"]
POSTAL = ["75011", "69003", "13001", "97400", "97200", "33000", "59000", "97300"]


def nir(i: int) -> str:
    """The i-th of about 50 million distinct valid NIRs (men born in Paris, 1940-1989: commune and order vary)."""
    body = f"1{40 + (i // 998001) % 50:02d}0175{(i // 999) % 999 + 1:03d}{i % 999 + 1:03d}"
    return body + calc_check_digits(body)


def write_batch(path: Path, rows: int, sent: date) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(rows):
            w.writerow([nir(i), f"{80000000000 + i}", f"Nom{i}", f"Prénom{i % 977}",
                        f"{1940 + i % 50}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                        f"06{12000000 + i % 87000000:08d}" if i % 3 else "",
                        f"p{i}@example.org" if i % 4 == 0 else "", "fr" if i % 5 else "en", sent.isoformat(),
                        POSTAL[i % len(POSTAL)] if i % 2 else ""])


def env_for(url: str, work: Path) -> dict:
    env = dict(os.environ)
    env.update({"DATABASE_URL": url, "SECRET_KEY": "bench-secret", "LOOKUP_KEY": "bench-lookup-key",
                "FLASK_APP": "app"})
    env.pop("SECRET_HASH_KEY", None)
    return env


def flask(env: dict, *args, check=True) -> subprocess.CompletedProcess:
    return subprocess.run([FLASK, "--app", "app", *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          check=check)


# The child reports its own peak resident memory (VmHWM) as it exits: the rusage of a child (ru_maxrss) also
# counts the parent's pages it was forked with, before its exec.
MEASURED = """
import atexit, sys
out = sys.argv.pop(1)
def peak():
    with open("/proc/self/status") as f:
        hwm = next(line.split()[1] for line in f if line.startswith("VmHWM"))
    with open(out, "w") as f:
        f.write(hwm)
atexit.register(peak)
from flask.cli import main
sys.argv = ["flask", "--app", "app", *sys.argv[1:]]
main()
"""


def timed_import(env: dict, batch: Path, codes: Path) -> tuple[float, int, int, str]:
    """(seconds, peak RSS in KiB, exit status, output's last lines) of one `enrol` child process."""
    log, peak = codes.with_suffix(".log"), codes.with_suffix(".peak")
    with open(log, "w") as out:
        started = time.monotonic()
        status = subprocess.run([sys.executable, "-c", MEASURED, str(peak), "enrol", str(batch), "--codes-out",
                                 str(codes)], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT).returncode
        seconds = time.monotonic() - started
    rss = int(peak.read_text()) if peak.exists() else -1
    return seconds, rss, status, log.read_text()[-600:]


def check(env: dict, rows: int, codes: Path) -> str:
    """Every row stored once with one code, each code in CODES.csv, none left sealed; 20 codes identify."""
    from app import create_app
    from app.models import AuditEntry, HealthSpace, Person, ProvisionalCode, db
    from app.services import identity
    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"], "SECRET_KEY": env["SECRET_KEY"],
                      "LOOKUP_KEY": env["LOOKUP_KEY"]})
    lines = list(csv.reader(codes.open(encoding="utf-8")))[1:]
    with app.app_context():
        count = lambda model: db.session.scalar(db.select(db.func.count()).select_from(model))  # noqa: E731
        people, spaces, codes_n = count(Person), count(HealthSpace), count(ProvisionalCode)
        entries = db.session.scalar(db.select(db.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "person.enrolled"))
        sealed = db.session.scalar(db.select(db.func.count()).select_from(ProvisionalCode).where(
            ProvisionalCode.sealed_code.is_not(None)))
        problems = [f"{name} {n} != {rows}" for name, n in (("people", people), ("spaces", spaces),
                                                             ("codes", codes_n), ("audit entries", entries),
                                                             ("CODES.csv lines", len(lines))) if n != rows]
        if sealed:
            problems.append(f"{sealed} codes still sealed")
        random.seed(1)
        by_nir = {nir(i): i for i in range(rows)}
        for n, code in random.sample(lines, min(20, len(lines))):
            i = by_nir[n]
            born = date(1940 + i % 50, 1 + i % 12, 1 + i % 28)
            try:
                identity.identify(n, f"{80000000000 + i}", born, code, client="bench", channel="web")
            except Exception as exc:  # noqa: BLE001
                problems.append(f"code of row {i} does not identify: {type(exc).__name__}")
        db.session.remove()
        db.engine.dispose()
    return "; ".join(problems) or "ok: every row stored once, its code in CODES.csv, 20 codes identify"


def bench(name: str, url: str, work: Path, rows: int, second_run: bool = True) -> dict:
    env = env_for(url, work)
    if url.startswith("postgresql"):
        flask(env, "db", "downgrade", "base", check=False)
    flask(env, "db", "upgrade")
    batch, codes = work / f"batch-{name}-{rows}.csv", work / f"codes-{name}-{rows}.csv"
    write_batch(batch, rows, date.today() - timedelta(days=2))
    seconds, rss, status, tail = timed_import(env, batch, codes)
    result = {"name": name, "rows": rows, "seconds": seconds, "rate": rows / seconds, "rss_mb": rss / 1024,
              "status": status}
    print(f"\n{name}: {rows:,} rows in {seconds:.1f} s: {rows / seconds:,.0f} rows a second; "
          f"peak RSS {rss / 1024:.0f} MB; exit {status}")
    if status != 0:
        print(tail)
    print("  " + check(env, rows, codes))
    if second_run:
        again = work / f"codes-{name}-{rows}-again.csv"
        s2, rss2, status2, tail2 = timed_import(env, batch, again)
        result["again_rate"] = rows / s2
        last = [line for line in tail2.splitlines() if "imported" in line]
        print(f"  the same batch again: {s2:.1f} s ({rows / s2:,.0f} rows a second), peak RSS {rss2 / 1024:.0f} MB, "
              f"exit {status2}: {last[-1] if last else tail2}")
    batch.unlink()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--memory-rows", type=int, default=0, help="one more SQLite import of this many rows")
    parser.add_argument("--chunk", type=int, default=None, help="IMPORT_CHUNK_ROWS for the child (default 1000)")
    args = parser.parse_args()
    if args.chunk:
        os.environ["IMPORT_CHUNK_ROWS"] = str(args.chunk)
    print(machine())
    print(load_average(), "(before)")
    work = Path(tempfile.mkdtemp(prefix="relais-enrol-"))
    results = []
    try:
        results.append(bench("SQLite", f"sqlite:///{work / 'bench.db'}", work, args.rows))
        if os.environ.get("DATABASE_URL", "").startswith("postgresql"):
            results.append(bench("PostgreSQL", os.environ["DATABASE_URL"], work, args.rows))
        if args.memory_rows:
            results.append(bench("SQLite, memory", f"sqlite:///{work / 'memory.db'}", work, args.memory_rows,
                                 second_run=False))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(load_average(), "(after)")
    for r in results:
        rate_ok = "≥ 1,000" if r["rate"] >= 1000 else "UNDER 1,000"
        mem_ok = "< 300 MB" if r["rss_mb"] < 300 else "OVER 300 MB"
        print(f"{r['name']:>16}: {r['rows']:>9,} rows  {r['rate']:>7,.0f} rows/s ({rate_ok})  "
              f"peak RSS {r['rss_mb']:.0f} MB ({mem_ok})"
              + (f"  again {r['again_rate']:,.0f} rows/s" if "again_rate" in r else ""))
    if any(r["status"] != 0 for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
