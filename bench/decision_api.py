"""The decision API as the health-record system calls it: `POST /api/v1/access-events` on PostgreSQL, beside hello.

    scripts/with-postgres.sh .venv/bin/python bench/decision_api.py [--people 2000] [--seconds 10] [--warmup 2]
        [--clients 1 4 16] [--processes 1 2] [--rounds 1] [--seed 1] [--keep]

PostgreSQL only (the national plan's database): it refuses to run without a `postgresql` DATABASE_URL. On that
server it creates a database of its own (`relais_decision_<pid>`, dropped at the end unless `--keep`), migrates it
(`flask db upgrade`) and enrols `--people` people of bench/population.py with `flask enrol` (cheap argon2 for the
enrolment only: nobody identifies here, and the production hashes would take a minute and a half for 2,000).
Then, in one SQL pass, their spaces are made what the health-record system meets: 88 % active, 4 % opposed,
3 % closed, 5 % still in their window (no space yet); 10 % with the SAMU's access off, 5 % break-glass off,
20 % showing masked documents in an emergency, 3 % having blocked one of the professionals, 5 % without a mobile
(a letter instead of an SMS), 5 % who asked for no message at each access.

Then six servers start, each gunicorn as the Procfile runs it (`bench/throughput.py`'s `start_gunicorn`:
`--worker-class sync`, loopback, a free port): the bare Flask hello (`bench/hello_app.py`, `GET /`), the floor
(`bench/floor_app.py`: the same POST, its key checked, its body parsed and written as one row in one round trip,
nothing else: what any design of the decision API must at least do) and Relais, each with 1 and with 2 processes
(`--processes`). At each `--clients` count (connections kept busy at once, one wrk thread) they are driven one
after the other, for `--seconds` after `--warmup` seconds each, the others idle: the six figures of a count are
taken within a minute and a half, so a drift of the machine skews them alike. With `--rounds N` every cell is
measured N times, round after round, and the medians are printed.

Why wrk: the load generator shares the 2 CPUs with gunicorn and PostgreSQL, so it must cost little per request.
wrk is C on epoll with LuaJIT for the bodies: about 10-20 µs of CPU a request, where a Python client
(http.client, threads) spends 200-400 µs and would take a large share of a core at a thousand requests a second.

Each Relais request is a realistic body (bench/population.py's professionals and sections, modes normal 90 %,
samu 6 %, break_glass 4 % with a reason) for a random enrolled NIR, built beforehand (4,000 of them), with an
`event_id` that wrk's Lua script makes distinct for every request of the run (`<run>-<thread>-<n>`): every
request is a new event, decided, recorded, audited and notified (the outbox message queued; no worker sends it).
The script counts the answers that are not 201 and the decisions. After each measurement the database is checked:
one new access event per 201 answered, one queued message per event of a person who wants them.

Prints the machine, the load average before and after, the table (server, processes, clients, requests/s, p50,
p99 in ms, server CPU per request: gunicorn's and PostgreSQL's backends of this database), then the three targets
of /work/shared/QUALITY.md §4 with met / NOT met:
- p99 ≤ 25 ms at 4 concurrent clients (2 processes, the Procfile's default; 1 process printed beside it);
- 2 processes give ≥ 1.6× the requests per second of 1 (at 16 clients, the saturated case; 4 printed beside it);
- the decision API at ≥ 25 % of hello's requests per second (2 processes, 16 clients; every cell printed);
then the floor against hello and the decision API against the floor, with the CPU each takes a request.
Exits 1 when something failed (an answer not 201/200, a socket error, an event or a message missing, an error in
gunicorn's log), never for a missed target.
"""
import argparse
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import population  # noqa: E402
import throughput  # noqa: E402
import webhook_latency as wl  # noqa: E402

API_KEY = "bench-operator-key"
PATH = "/api/v1/access-events"
BODIES = 4000
# The yardstick, the floor (the same POST written as one row: bench/floor_app.py) and Relais, in this order.
SERVERS = {"hello": "hello_app:app", "floor": "floor_app:app", "Relais": "app:create_app()"}

# One Lua state per wrk thread: each numbers its own requests; `done` adds up the threads' counts.
LUA = r"""
local bodies = {}
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
local threads = {}
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %(key)s"}
function setup(thread) thread:set("tid", #threads + 1); table.insert(threads, thread) end
function init(args) n = 0; bad = 0; total = 0; granted = 0; refused = 0; math.randomseed(tid * 7919 + %(seed)d) end
function request()
  n = n + 1
  local body = bodies[math.random(#bodies)] .. ',"event_id":"%(run)s-' .. tid .. '-' .. n .. '"}'
  return wrk.format("POST", "%(path)s", headers, body)
end
function response(status, headers, body)
  total = total + 1
  if status ~= 201 then bad = bad + 1
  elseif string.find(body, '"decision":"granted"', 1, true) then granted = granted + 1
  else refused = refused + 1 end
end
function done(summary, latency, requests)
  local b, t, g, r = 0, 0, 0, 0
  for _, th in ipairs(threads) do
    b = b + th:get("bad"); t = t + th:get("total"); g = g + th:get("granted"); r = r + th:get("refused")
  end
  io.write(string.format("LUA bad=%%d total=%%d granted=%%d refused=%%d\n", b, t, g, r))
end
"""


def _psycopg_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


class Database:
    """A database of its own on DATABASE_URL's server: created, then dropped unless kept."""

    def __init__(self, server_url: str, keep: bool):
        from sqlalchemy.engine import make_url
        self.server = make_url(_psycopg_url(server_url))
        self.name = f"relais_decision_{os.getpid()}"
        self.url = self.server.set(database=self.name).render_as_string(hide_password=False)
        self.keep = keep

    def _admin(self, sql: str) -> None:
        import psycopg
        s = self.server
        with psycopg.connect(host=s.host, port=s.port, user=s.username, password=s.password, dbname=s.database,
                             autocommit=True) as conn:
            conn.execute(sql)

    def __enter__(self) -> "Database":
        self._admin(f"CREATE DATABASE {self.name}")
        return self

    def __exit__(self, *_exc) -> None:
        if self.keep:
            print(f"kept database {self.name}: {self.url}")
            return
        self._admin(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


def shape_population(url: str, people: list[population.Person], rng: random.Random) -> dict[str, int]:
    """Spaces as the health-record system meets them (states, settings, blocks, channels), in one transaction."""
    from sqlalchemy import create_engine, text

    from app.services.access import professional_keys
    engine = create_engine(url)
    today = datetime.now(timezone.utc).replace(tzinfo=None)
    counts = {"active": 0, "opposed": 0, "closed": 0, "notified": 0, "blocked": 0}
    spaces, no_mobile, no_messages, blocks = [], [], [], []
    try:
        with engine.begin() as c:
            for (pid,) in c.execute(text("SELECT id FROM person ORDER BY id")):
                roll = rng.random()
                state = "active" if roll < .88 else "opposed" if roll < .92 else "closed" if roll < .95 else "notified"
                counts[state] += 1
                spaces.append({"pid": pid, "state": state,
                               "activated": today if state in ("active", "closed") else None,
                               "opposed": today if state == "opposed" else None,
                               "closed": today if state == "closed" else None,
                               "sent": None if state == "notified" else today - timedelta(days=rng.randrange(60, 700)),
                               "samu": rng.random() >= .10, "glass": rng.random() >= .05, "masked": rng.random() < .20})
                if rng.random() < .05:
                    no_mobile.append({"pid": pid})
                if rng.random() < .05:
                    no_messages.append({"pid": pid})
                if rng.random() < .03:
                    name, profession, organisation, rpps = rng.choice(population.PROFESSIONALS)
                    key = "rpps:" + rpps if rpps else min(professional_keys(name, profession, organisation, None))
                    blocks.append({"pid": pid, "key": key, "name": name, "profession": profession,
                                   "organisation": organisation, "now": today})
            c.execute(text(
                "UPDATE health_space SET state = :state, activated_at = :activated, opposed_at = :opposed, "
                "closed_at = :closed, letter_sent_on = coalesce(CAST(:sent AS date), letter_sent_on), "
                "samu_access = :samu, break_glass_access = :glass, masked_in_emergency = :masked "
                "WHERE person_id = :pid"), spaces)
            if no_mobile:
                c.execute(text("UPDATE person SET phone = NULL, phone_lookup = NULL WHERE id = :pid"), no_mobile)
            if no_messages:
                c.execute(text("UPDATE person SET notifications_enabled = false WHERE id = :pid"), no_messages)
            if blocks:
                c.execute(text(
                    "INSERT INTO blocked_professional (person_id, professional_key, professional_name, profession, "
                    "organisation, blocked_at) VALUES (:pid, :key, :name, :profession, :organisation, :now)"), blocks)
            counts["blocked"] = len(blocks)
    finally:
        engine.dispose()
    return counts


def postgres_url(script: str, what: str) -> str | None:
    """DATABASE_URL when it is PostgreSQL's; else says why `script` refuses SQLite and returns None."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgresql"):
        return url
    print(f"bench/{script} measures {what} on PostgreSQL only (the national plan's database): run it under "
          "scripts/with-postgres.sh, or with DATABASE_URL=postgresql://…; SQLite is refused.", file=sys.stderr)
    return None


def load_line(before, after) -> str:
    return ("load average before " + " ".join(f"{x:.2f}" for x in before) + ", after " +
            " ".join(f"{x:.2f}" for x in after))


def write_bodies(people: list[population.Person], path: str, rng: random.Random, count: int = BODIES) -> None:
    """Event bodies without their closing brace: wrk's script adds a distinct `event_id` to each request."""
    now = datetime.now(timezone.utc)
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(count):
            p = rng.choice(people)
            name, profession, organisation, rpps = rng.choice(population.PROFESSIONALS)
            mode = rng.choices(["normal", "samu", "break_glass"], weights=[90, 6, 4])[0]
            event = {"nir": p.nir, "occurred_at": (now - timedelta(minutes=rng.randrange(1, 600)))
                     .isoformat(timespec="seconds"), "professional_name": name, "profession": profession,
                     "organisation": organisation, "mode": mode, "section": rng.choice(population.SECTIONS),
                     "reason": "Malaise sur la voie publique" if mode != "normal" else None}
            if rpps:
                event["professional_id"] = rpps
            text = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
            f.write(text[:-1] + "\n")


def recorded_since(url: str, since: int) -> tuple[int, int, int]:
    """After event id `since`: events recorded, those whose holder wants a message at each access, messages queued
    for them (one snapshot: an event and its message commit together)."""
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return tuple(c.execute(text(
                "SELECT (SELECT count(*) FROM access_event WHERE id > :since), "
                "(SELECT count(*) FROM access_event e JOIN person p ON p.id = e.person_id "
                " WHERE e.id > :since AND p.notifications_enabled), "
                "(SELECT count(*) FROM outbox_message WHERE access_event_id > :since)"), {"since": since}).one())
    finally:
        engine.dispose()


def last_event_id(url: str) -> int:
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return c.execute(text("SELECT coalesce(max(id), 0) FROM access_event")).scalar()
    finally:
        engine.dispose()


class Backends:
    """CPU time of the PostgreSQL backends serving this database (Linux /proc; world-readable stat files)."""

    def __init__(self, url: str, database: str):
        from sqlalchemy import create_engine
        self.engine = create_engine(url)
        self.database = database

    def cpu(self) -> dict[int, float]:
        """CPU seconds so far of each backend (pid); `used(before, after)` adds up what a run took."""
        from sqlalchemy import text
        with self.engine.connect() as c:
            pids = [r[0] for r in c.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"),
                {"db": self.database})]
        tick, out = os.sysconf("SC_CLK_TCK"), {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                out[pid] = (int(fields[11]) + int(fields[12])) / tick
            except (OSError, IndexError, ValueError):
                pass  # gone meanwhile (a check's own connection), or a server on another machine
        return out

    @staticmethod
    def used(before: dict[int, float], after: dict[int, float]) -> float:
        """CPU seconds between two readings: backends started since count from zero; none readable: nan."""
        if not after:
            return float("nan")
        return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())

    def close(self) -> None:
        self.engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10, help="duration of each measurement")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of load before each measurement")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16], help="concurrent connections")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2], help="gunicorn sync workers")
    parser.add_argument("--rounds", type=int, default=1, help="measure every cell this many times (medians)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the database and the work directory")
    args = parser.parse_args()
    server_url = postgres_url("decision_api.py", "the decision API")
    if server_url is None:
        return 2
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2

    rng = random.Random(args.seed)
    tmp = tempfile.mkdtemp(prefix="relais-decision-")
    log_path = os.path.join(tmp, "gunicorn.log")
    hello_lua = os.path.join(tmp, "hello.lua")
    Path(hello_lua).write_text(throughput.LUA)
    bodies = os.path.join(tmp, "bodies.jsonl")
    problems: list[str] = []
    runs: list[dict] = []
    load_before = os.getloadavg()
    with Database(server_url, args.keep) as database:
        env = dict(os.environ)
        env.update(DATABASE_URL=database.url, SECRET_KEY="bench-secret-key", LOOKUP_KEY="bench-lookup-key",
                   OPERATOR_API_KEY=API_KEY, PYTHONUNBUFFERED="1")
        for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "SMTP_HOST"):
            env.pop(name, None)  # nothing is sent: the messages wait in the outbox
        t0 = time.perf_counter()
        population.flask_cli(env, "db", "upgrade")
        people = population.make_people(args.people, rng, window_open_share=1.0, email_share=0.0)
        cheap = {**env, "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "1024", "ARGON2_PARALLELISM": "1"}
        population.load(cheap, people, tmp, rng, processes=len(os.sched_getaffinity(0)), run_id="decision")
        shaped = shape_population(database.url, people, rng)
        write_bodies(people, bodies, rng)
        setup_s = time.perf_counter() - t0
        backends = Backends(database.url, database.name)
        servers: dict[tuple[str, int], tuple[int, object]] = {}
        try:
            # Every server started at once, idle until its turn: each cell is measured right after the same cell
            # of the others, so a drift of the machine (other programs starting or ending) skews all alike.
            for processes in args.processes:
                for server_name in SERVERS:
                    port = wl.free_port()
                    app_spec = SERVERS[server_name]
                    servers[server_name, processes] = port, throughput.start_gunicorn(
                        app_spec, {**env, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}, port, processes, log_path)
            for round_no in range(args.rounds):
                for clients in args.clients:
                    for (server_name, processes), (port, server) in servers.items():
                        runs.append(measure(server_name, processes, clients, round_no, port, server, backends,
                                            database.url, tmp, bodies, hello_lua, args, problems))
        finally:
            for _port, server in servers.values():
                wl.stop(server)
            backends.close()
            log_text = Path(log_path).read_text(errors="replace") if os.path.exists(log_path) else ""
            if not args.keep:
                shutil.rmtree(tmp, ignore_errors=True)
    if "Traceback" in log_text or "[ERROR]" in log_text:
        problems.append("gunicorn log has errors:\n" + "\n".join(log_text.splitlines()[-30:]))
    load_after = os.getloadavg()
    order = list(SERVERS).index
    keys = sorted(dict.fromkeys((r["processes"], order(r["server"]), r["clients"]) for r in runs))
    rows = [_median_of([r for r in runs if (r["processes"], order(r["server"]), r["clients"]) == key])
            for key in keys]

    print(f"machine: {wl.machine()}")
    print(f"server:  gunicorn {wl._version('gunicorn')}, sync workers, loopback; PostgreSQL "
          f"{_pg_version(server_url)}; load: wrk, 1 thread, {args.seconds:g} s a measurement after "
          f"{args.warmup:g} s of warm-up; {args.rounds} round(s), medians")
    print(f"setup:   {args.people} people enrolled and shaped in {setup_s:.0f} s ({shaped['active']} active, "
          f"{shaped['opposed']} opposed, {shaped['closed']} closed, {shaped['notified']} in their window; "
          f"{shaped['blocked']} with a professional blocked); {BODIES} event bodies, each request a new event_id")
    print(load_line(load_before, load_after) + " (other programs on the machine skew the figures)")
    print()
    print(f"{'server':8s} {'processes':>9s} {'clients':>7s} {'req/s':>8s} {'p50 ms':>7s} {'p99 ms':>7s} "
          f"{'CPU/req gunicorn':>16s} {'+ PostgreSQL':>12s}  answers")
    for r in rows:
        pg = f"{r['pg_us']:9.0f} µs" if r["pg_us"] == r["pg_us"] else f"{'-':>12s}"
        answers = f"{r['requests']} requests, {max(r['bad'], 0)} bad"
        if r["server"] == "Relais":
            answers += f"; {r['granted']} granted, {r['refused']} refused"
        print(f"{r['server']:8s} {r['processes']:9d} {r['clients']:7d} {r['rps']:8.0f} {r['p50']:7.1f} {r['p99']:7.1f} "
              f"{r['cpu_us']:13.0f} µs {pg}  {answers}")
    print()

    def cell(server: str, processes: int, clients: int) -> dict | None:
        return next((r for r in rows if (r["server"], r["processes"], r["clients"]) == (server, processes, clients)),
                    None)

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    for processes in args.processes:
        r = cell("Relais", processes, 4)
        if r:
            main_cell = processes == max(args.processes)
            print(f"p99 at 4 clients, {processes} process{'es' if processes > 1 else ''}: {r['p99']:.1f} ms; "
                  f"target ≤ 25 ms{': ' + verdict(r['p99'] <= 25) if main_cell else ' (the target is for 2)'}")
    if 1 in args.processes and 2 in args.processes:
        for clients in (16, 4):
            one, two = cell("Relais", 1, clients), cell("Relais", 2, clients)
            if one and two:
                ratio = two["rps"] / one["rps"]
                hello = (cell("hello", 2, clients)["rps"] / cell("hello", 1, clients)["rps"]
                         if cell("hello", 1, clients) and cell("hello", 2, clients) else float("nan"))
                print(f"2 processes / 1 at {clients} clients: {ratio:.2f}× the requests per second "
                      f"(hello {hello:.2f}×); target ≥ 1.6×{': ' + verdict(ratio >= 1.6) if clients == 16 else ''}")
    for processes in args.processes:
        for clients in args.clients:
            relais, hello = cell("Relais", processes, clients), cell("hello", processes, clients)
            if relais and hello:
                ratio = relais["rps"] / hello["rps"]
                cpu_ratio = hello["cpu_us"] / relais["cpu_us"] if relais["cpu_us"] else float("nan")
                headline = processes == max(args.processes) and clients == max(args.clients)
                print(f"decision API / hello, {processes} process{'es' if processes > 1 else ''}, "
                      f"{clients:2d} clients: {ratio:4.0%} of the requests per second "
                      f"({cpu_ratio:.0%} per gunicorn CPU-second)"
                      f"{'; target ≥ 25 %: ' + verdict(ratio >= .25) if headline else ''}")
    # What the floor (the same POST, written as one row, nothing else) reaches bounds what any design can.
    for processes in args.processes:
        floor, hello, relais = (cell(s, processes, max(args.clients)) for s in ("floor", "hello", "Relais"))
        if floor and hello and relais:
            print(f"floor (one row written) / hello, {processes} process{'es' if processes > 1 else ''}, "
                  f"{max(args.clients)} clients: {floor['rps'] / hello['rps']:.0%}; decision API / floor: "
                  f"{relais['rps'] / floor['rps']:.0%} (CPU a request: floor {floor['cpu_us']:.0f} + "
                  f"{floor['pg_us']:.0f} µs, decision {relais['cpu_us']:.0f} + {relais['pg_us']:.0f} µs)")
    for p in problems:
        print("  problem:", p)
    return 1 if problems else 0


def _median_of(runs: list[dict]) -> dict:
    """One cell over its rounds: the median of each figure, the sum of each count."""
    out = dict(runs[0])
    for k in ("rps", "p50", "p99", "cpu_us", "pg_us"):
        out[k] = statistics.median(r[k] for r in runs)
    for k in ("requests", "bad", "granted", "refused"):
        if k in out:
            out[k] = sum(max(r[k], 0) for r in runs)
    return out


def measure(server_name: str, processes: int, clients: int, round_no: int, port: int, server, backends: Backends,
            url: str, tmp: str, bodies: str, hello_lua: str, args, problems: list[str]) -> dict:
    relais = server_name == "Relais"
    posts = server_name != "hello"

    def run(seconds: float, tag: str) -> dict:
        if not posts:
            return throughput.run_wrk(port, "/", {}, seconds, clients, 1, hello_lua)
        lua = os.path.join(tmp, f"{tag}.lua")
        Path(lua).write_text(LUA % {"bodies": bodies, "key": API_KEY, "seed": args.seed, "run": tag, "path": PATH})
        return throughput.run_wrk(port, PATH, {}, seconds, clients, 1, lua)

    tag = f"r{round_no}p{processes}c{clients}"
    if args.warmup:
        run(args.warmup, tag + "w")
    time.sleep(0.3)  # the warm-up's last requests, still being answered when wrk stopped, are done
    since = last_event_id(url) if relais else 0
    cpu0, pg0 = wl.cpu_seconds(server.pid), backends.cpu() if posts else {}
    r = run(args.seconds, tag)
    cpu = wl.cpu_seconds(server.pid) - cpu0
    pg = Backends.used(pg0, backends.cpu()) if posts else float("nan")
    r.update(server=server_name, processes=processes, clients=clients,
             cpu_us=cpu / r["requests"] * 1e6 if r["requests"] else float("nan"),
             pg_us=pg / r["requests"] * 1e6 if r["requests"] and posts else float("nan"))
    label = f"{server_name}, {processes} process(es), {clients} clients"
    if r["bad"] != 0 or r["socket_errors"]:
        problems.append(f"{label}: {r['bad']} answers not {'201' if posts else '200'}, "
                        f"{r['socket_errors']} socket errors")
    if relais:
        m = re.search(r"granted=(\d+) refused=(\d+)", r["raw"])
        r["granted"], r["refused"] = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
        time.sleep(0.3)
        events, wanted, queued = recorded_since(url, since)
        created = r["granted"] + r["refused"]
        # wrk stops at its deadline with requests in flight: the server finishes and records those too.
        if not created <= events <= created + clients:
            problems.append(f"{label}: {created} events answered 201, {events} recorded")
        if queued != wanted:
            problems.append(f"{label}: {wanted} access messages due, {queued} queued")
    return r


def _pg_version(url: str) -> str:
    from sqlalchemy import create_engine, text
    engine = create_engine(_psycopg_url(url))
    try:
        with engine.connect() as c:
            return c.execute(text("SHOW server_version")).scalar()
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
