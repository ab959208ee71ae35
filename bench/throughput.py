"""Requests per second of Relais's home and history pages against a bare Flask "hello", side by side, one run.

    .venv/bin/python bench/throughput.py [--seconds 10] [--connections 16] [--workers 2] [--rounds 1]
    scripts/with-postgres.sh .venv/bin/python bench/throughput.py      # adds Relais on PostgreSQL

Every server runs under the same gunicorn settings (the Procfile's: `--workers 2`, sync workers) on a free
loopback port, one after the other, with the same load generator (wrk when installed, else a threaded Python
client) for a fixed duration and a fixed number of connections:

1. hello: bench/hello_app.py, `GET /`.
2. Relais on SQLite (a fresh file, `flask db upgrade`): `GET /`, the home page, anonymous; and `GET /history`, the
   first page (20 lines) of a history of 200 accesses: one person is enrolled with `flask enrol` and given 200
   accesses with `flask access-events import`, identifies once through `POST /identify`, and the session cookie
   it gets is sent with every request (the session lasts 15 idle minutes; each page checks it in the database).
3. Relais on PostgreSQL, the same, when DATABASE_URL is set.
4. hello again, so a drift of the machine during the run shows.

Requests ask for gzip (`Accept-Encoding: gzip`), as every browser does: Relais compresses its pages. Every
answer must be 200 (a wrk Lua hook counts the others); the history page is checked before and after each run
(200, 20 lines, "200 accesses"), so a run where the session had lapsed cannot pass for a fast one.

Then identification, which cannot be replayed over HTTP (a letter's code works once): `identify()` of
app/services/identity.py is called in this process, on one core, for people enrolled beforehand (successes) and
with wrong codes (failures): per second per core, beside the cost of one argon2id verification with the
production parameters of app/config.py (ARGON2_* variables are removed from the environment).

Last, the audit log: processes append entries about nobody in particular (the system's shards of chains) for
`--audit` seconds each (1 process, 4 processes, 4 processes with 50 entries a transaction): entries per second.
bench/audit_chains.py measures the chains per person, and verification, in detail.

Prints the machine, each figure, and the ratios home/hello and history/hello against the target of
/work/shared/QUALITY.md §4 (≥ 50 %), both in requests per second and in requests per second of server CPU (the
load generator shares the CPUs: the second ratio does not depend on how much of them it took).
"""
import argparse
import http.client
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import population  # noqa: E402
import webhook_latency as wl  # noqa: E402  (also removes ARGON2_* from the environment)

ROOT = wl.ROOT
LUA = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0; total = 0 end
function response(status, headers, body)
  total = total + 1
  if status ~= 200 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local b, t = 0, 0
  for _, th in ipairs(threads) do b = b + th:get("bad"); t = t + th:get("total") end
  io.write(string.format("LUA bad=%d total=%d\n", b, t))
end
"""


# --- load generators ----------------------------------------------------------------------------------

def run_wrk(port: int, path: str, headers: dict, seconds: float, connections: int, threads: int,
            lua_path: str) -> dict:
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s", "--latency",
           "-s", lua_path]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout

    def grab(pattern, cast=float, default=0):
        m = re.search(pattern, out)
        return cast(m.group(1)) if m else default

    def ms(label):
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]

    socket_errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return {"rps": grab(r"Requests/sec:\s+([\d.]+)"), "requests": grab(r"(\d+) requests in", int),
            "bad": grab(r"LUA bad=(\d+)", int, -1), "socket_errors": socket_errors,
            "p50": ms("50"), "p99": ms("99"), "raw": out}


def run_python(port: int, path: str, headers: dict, seconds: float, connections: int) -> dict:
    """The fallback when wrk is missing: `connections` threads, each sending one request after another."""
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    counts = {"requests": 0, "bad": 0, "socket_errors": 0}
    latencies: list[float] = []

    def worker():
        n = bad = errs = 0
        mine = []
        while time.monotonic() < deadline:
            start = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", path, headers=headers)
                r = conn.getresponse()
                r.read()
                conn.close()
                n += 1
                bad += r.status != 200
                mine.append((time.perf_counter() - start) * 1000)
            except (OSError, http.client.HTTPException):
                errs += 1
        with lock:
            counts["requests"] += n
            counts["bad"] += bad
            counts["socket_errors"] += errs
            latencies.extend(mine)

    started = time.perf_counter()
    ts = [threading.Thread(target=worker) for _ in range(connections)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {**counts, "rps": counts["requests"] / wall,
            "p50": wl.percentile(latencies, .5) if latencies else float("nan"),
            "p99": wl.percentile(latencies, .99) if latencies else float("nan"), "raw": ""}


# --- servers ------------------------------------------------------------------------------------------

def start_gunicorn(app_spec: str, env: dict, port: int, workers: int, log_path: str) -> subprocess.Popen:
    with open(log_path, "a") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", "sync",
             "--bind", f"127.0.0.1:{port}", "--pythonpath", str(ROOT / "bench"), "--log-level", "warning",
             app_spec], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wl.wait_until_up(port, server)
    return server


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    body = r.read().decode("utf-8", "replace")
    conn.close()
    return r.status, dict(r.getheaders()), body


def cookies_from(headers: list[tuple[str, str]], jar: dict) -> None:
    for k, v in headers:
        if k.lower() == "set-cookie":
            name, _, rest = v.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0]


def sign_in(port: int, person: population.Person) -> str:
    """Identify once through the form, as a browser would; returns the Cookie header of the session."""
    jar: dict[str, str] = {}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/identify?next=history")
    r = conn.getresponse()
    page = r.read().decode()
    cookies_from(r.getheaders(), jar)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    body = urlencode({"csrf_token": token, "nir": person.nir, "vitale_serial": person.serial,
                      "birth_date": person.birth.strftime("%d/%m/%Y"), "code": person.code})
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    conn.request("POST", "/identify?next=history", body=body,
                 headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    r = conn.getresponse()
    r.read()
    cookies_from(r.getheaders(), jar)
    conn.close()
    if r.status != 302 or "/history" not in (r.getheader("Location") or ""):
        raise SystemExit(f"identification failed: HTTP {r.status} to {r.getheader('Location')}")
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def check_history(port: int, cookie: str, total: int) -> str | None:
    status, _h, body = get(port, "/history", {"Cookie": cookie})
    if status != 200:
        return f"/history answered {status} (session lapsed?)"
    lines = body.count('class="entry"')
    if lines != 20 or not re.search(rf"\b{total}\s+(accesses|accès)", body):
        return f"/history shows {lines} lines, not 20 of {total}"
    return None


# --- identification, in this process --------------------------------------------------------------------

def identification_rates(db_url: str, people: int) -> dict:
    """identify() per second on one core: successes (each a fresh person) and failures (a wrong code)."""
    from app import create_app
    from app.domain.errors import IdentificationFailed
    from app.services import crypto, identity
    from app.services.identity import Enrolment
    rng = random.Random(7)
    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "bench-secret-key",
                      "LOOKUP_KEY": "bench-lookup-key"})
    folks = population.make_people(people, rng, start=500_000, window_open_share=1.0)
    out = {}
    with app.app_context():
        start = time.perf_counter()
        for p in folks:
            p.code = identity.enrol(Enrolment(p.nir, p.serial, p.family, p.given, p.birth, p.phone, p.email,
                                              p.language, p.letter_sent_on))
        out["enrol_s"] = (time.perf_counter() - start) / people
        start = time.perf_counter()
        for i, p in enumerate(folks):
            identity.identify(p.nir, p.serial, p.birth, p.code, client=f"bench-ok-{i}", channel="web")
        out["ok_s"] = (time.perf_counter() - start) / people
        start = time.perf_counter()
        for i, p in enumerate(folks):
            try:
                identity.identify(p.nir, p.serial, p.birth, "AAAACCCCFFFF", client=f"bench-ko-{i}", channel="web")
            except IdentificationFailed:
                pass
            else:
                raise SystemExit("a wrong code was accepted")
        out["ko_s"] = (time.perf_counter() - start) / people
        h = crypto.hasher()
        stored = h.hash("K7XM2RC9F4HA")
        times = []
        for _ in range(30):
            t0 = time.perf_counter()
            h.verify(stored, "K7XM2RC9F4HA")
            times.append(time.perf_counter() - t0)
        out["verify_s"] = statistics.median(times)
        out["params"] = (app.config["ARGON2_MEMORY_KIB"], app.config["ARGON2_TIME_COST"],
                         app.config["ARGON2_PARALLELISM"])
    return out


# --- the audit chain ----------------------------------------------------------------------------------

def _append_loop(db_url: str, seconds: float, batch: int, out) -> None:
    """One process appending to the audit chain: `batch` entries a transaction, as fast as it can."""
    from app import audit, create_app
    from app.services import transaction
    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": "bench-secret-key",
                      "LOOKUP_KEY": "bench-lookup-key"})
    n = 0
    with app.app_context():
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            with transaction():
                for _ in range(batch):
                    audit.append("system", None, "bench.append", "job")
            n += batch
    out.put(n)


def audit_rates(db_url: str, seconds: float, configs=((1, 1), (4, 1), (4, 50))) -> list[tuple[int, int, float]]:
    """Entries a second the audit log takes, every transaction holding the head of the chain it writes to."""
    import multiprocessing
    ctx = multiprocessing.get_context("spawn")
    rates = []
    for procs, batch in configs:
        q = ctx.Queue()
        ps = [ctx.Process(target=_append_loop, args=(db_url, seconds, batch, q)) for _ in range(procs)]
        for p in ps:
            p.start()
        total = sum(q.get(timeout=seconds + 120) for _ in ps)
        for p in ps:
            p.join()
        rates.append((procs, batch, total / seconds))
    return rates


def audit_shards() -> int:
    from app import audit
    return audit.SHARDS


# --- the run ----------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="duration of each measurement")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of load before each measurement")
    parser.add_argument("--connections", type=int, default=16, help="connections kept busy at once")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (the Procfile's default)")
    parser.add_argument("--rounds", type=int, default=1, help="measure every target this many times (median)")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--no-gzip", action="store_true", help="do not ask for gzip")
    parser.add_argument("--identify", type=int, default=40, help="identifications per kind (0: skip)")
    parser.add_argument("--audit", type=float, default=5, help="seconds per audit-chain measurement (0: skip)")
    args = parser.parse_args()
    client = args.client if args.client != "auto" else ("wrk" if shutil.which("wrk") else "python")
    if client == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk, or --client python")

    tmp = tempfile.mkdtemp(prefix="relais-throughput-")
    lua_path = os.path.join(tmp, "count.lua")
    Path(lua_path).write_text(LUA)
    log_path = os.path.join(tmp, "gunicorn.log")
    headers = {} if args.no_gzip else {"Accept-Encoding": "gzip"}
    pg_url = os.environ.get("DATABASE_URL", "")
    backends = [("SQLite", f"sqlite:///{os.path.join(tmp, 'relais.db')}")]
    if pg_url.startswith("postgresql"):
        backends.append(("PostgreSQL", pg_url))
    rng = random.Random(1)
    results: dict[str, list[dict]] = {}
    notes: list[str] = []
    identification: dict[str, dict] = {}
    chain: dict[str, list] = {}

    def measure(label: str, port: int, path: str, extra: dict, server) -> None:
        h = {**headers, **extra}
        if args.warmup:
            (run_wrk(port, path, h, args.warmup, args.connections, args.threads, lua_path) if client == "wrk"
             else run_python(port, path, h, args.warmup, args.connections))
        cpu0 = wl.cpu_seconds(server.pid)
        t0 = time.perf_counter()
        r = (run_wrk(port, path, h, args.seconds, args.connections, args.threads, lua_path) if client == "wrk"
             else run_python(port, path, h, args.seconds, args.connections))
        wall = time.perf_counter() - t0
        r["cpu"] = wl.cpu_seconds(server.pid) - cpu0
        r["per_cpu_s"] = r["requests"] / r["cpu"] if r["cpu"] > 0 else float("nan")
        r["wall"] = wall
        results.setdefault(label, []).append(r)
        if r["bad"] != 0 or r["socket_errors"]:
            notes.append(f"{label}: {r['bad']} answers not 200, {r['socket_errors']} socket errors")

    def serve_hello(tag: str) -> None:
        port = wl.free_port()
        server = start_gunicorn("hello_app:app", dict(os.environ), port, args.workers, log_path)
        try:
            for _ in range(args.rounds):
                measure(f"hello{tag}", port, "/", {}, server)
        finally:
            wl.stop(server)

    load_before = os.getloadavg()[0]
    try:
        serve_hello(" (first)")
        for name, url in backends:
            port = wl.free_port()
            env = dict(os.environ)
            env.update(DATABASE_URL=url, SECRET_KEY="bench-secret-key", LOOKUP_KEY="bench-lookup-key",
                       TWILIO_AUTH_TOKEN="bench-twilio-auth-token", PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
                       PYTHONUNBUFFERED="1")
            population.flask_cli(env, "db", "upgrade")
            person = population.make_people(1, rng, window_open_share=0.0)[0]
            person.events = 200
            population.load(env, [person], tmp, rng, run_id=f"tp-{name}-{time.time_ns()}")
            server = start_gunicorn("app:create_app()", env, port, args.workers, log_path)
            try:
                for _ in range(4 * args.workers):
                    get(port, "/")
                cookie = sign_in(port, person)
                problem = check_history(port, cookie, 200)
                if problem:
                    raise SystemExit(f"{name}: {problem}")
                for _ in range(args.rounds):
                    measure(f"Relais {name}: home /", port, "/", {}, server)
                    measure(f"Relais {name}: history 200", port, "/history", {"Cookie": cookie}, server)
                    problem = check_history(port, cookie, 200)
                    if problem:
                        notes.append(f"{name}: after the run, {problem}")
            finally:
                wl.stop(server)
            if args.identify:
                identification[name] = identification_rates(url, args.identify)
            if args.audit:
                chain[name] = audit_rates(url, args.audit)
        serve_hello(" (last)")
    finally:
        log_text = Path(log_path).read_text(errors="replace") if os.path.exists(log_path) else ""
        shutil.rmtree(tmp, ignore_errors=True)
    if "Traceback" in log_text or "[ERROR]" in log_text:
        notes.append("gunicorn log has errors:\n" + "\n".join(log_text.splitlines()[-30:]))

    def med(label: str, key: str) -> float:
        return statistics.median(r[key] for r in results[label])

    ncpu = len(os.sched_getaffinity(0))
    print(f"machine: {wl.machine()}")
    print(f"server:  gunicorn {wl._version('gunicorn')}, {args.workers} sync workers, loopback; load: {client}, "
          f"{args.connections} connections, {args.seconds:g} s a measurement after {args.warmup:g} s of warm-up, "
          f"{args.rounds} round(s); {'no gzip' if args.no_gzip else 'Accept-Encoding: gzip'}")
    print(f"load average before {load_before:.2f}, after {os.getloadavg()[0]:.2f} "
          f"(other programs on the machine skew the figures)")
    print(f"{'target':34s} {'req/s':>8s} {'p50 ms':>7s} {'p99 ms':>7s} {'server CPU':>10s} {'req/CPU-s':>9s}  answers")
    for label, rs in results.items():
        cpu_share = statistics.median(r["cpu"] / r["wall"] / ncpu for r in rs)
        print(f"{label:34s} {med(label, 'rps'):8.0f} {med(label, 'p50'):7.1f} {med(label, 'p99'):7.1f} "
              f"{cpu_share:9.0%} {med(label, 'per_cpu_s'):9.0f}  "
              f"{sum(r['requests'] for r in rs)} requests, {sum(max(r['bad'], 0) for r in rs)} not 200")
    hello_labels = [k for k in results if k.startswith("hello")]
    hello_rps = statistics.mean(med(k, "rps") for k in hello_labels)
    hello_cpu = statistics.mean(med(k, "per_cpu_s") for k in hello_labels)
    print(f"hello (mean of first and last): {hello_rps:.0f} req/s, {hello_cpu:.0f} req per server CPU-second")
    failing = 0
    for name, _url in backends:
        for what, label in (("home", f"Relais {name}: home /"), ("history", f"Relais {name}: history 200")):
            ratio, cpu_ratio = med(label, "rps") / hello_rps, med(label, "per_cpu_s") / hello_cpu
            ok = ratio >= 0.5
            failing += not ok
            print(f"ratio {what}/hello on {name}: {ratio:.0%} of the requests per second "
                  f"({cpu_ratio:.0%} per server CPU-second); target ≥ 50 %: {'met' if ok else 'NOT met'}")
    for name, r in identification.items():
        m, t, p = r["params"]
        print(f"identification on {name}, one core: argon2id m={m} KiB t={t} p={p} verification "
              f"{r['verify_s'] * 1000:.1f} ms (median of 30); identify() succeeded {r['ok_s'] * 1000:.1f} ms, "
              f"failed {r['ko_s'] * 1000:.1f} ms (mean of {args.identify} each); "
              f"enrolment {r['enrol_s'] * 1000:.1f} ms")
        print(f"  = {1 / r['ok_s']:.0f} identifications per second per core that succeed, {1 / r['ko_s']:.0f} that "
              f"fail (argon2 alone would allow {1 / (2 * r['verify_s']):.0f}); {ncpu} cores: about "
              f"{ncpu / r['ok_s']:.0f}/s; enrolment {1 / r['enrol_s']:.0f} people per second per core")
    for name, rates in chain.items():
        print(f"audit log on {name} (the system's entries, {audit_shards()} chains): " +
              "; ".join(f"{procs} process{'es' if procs > 1 else ''}, {batch} entr{'ies' if batch > 1 else 'y'} "
                        f"a transaction: {rate:.0f} entries/s ({rate / batch:.0f} transactions/s)"
                        for procs, batch, rate in rates))
    for n in notes:
        print("  problem:", n)
    return 1 if notes else 0


if __name__ == "__main__":
    sys.exit(main())
