"""Voice webhook latency with 20 calls at once: gunicorn on loopback, signed requests, production argon2.

    .venv/bin/python bench/webhook_latency.py [--calls 20] [--seconds 30] [--think 1.0] [--workers 2]

Starts Relais under gunicorn as the Procfile does (2 sync workers) on a free loopback port, with a fresh SQLite
database migrated by `flask db upgrade` and the demo loaded by `flask demo load`. Then `--calls` threads each
play one caller after another, with a new CallSid each time, until `--seconds` have passed: every webhook is
signed with twilio's RequestValidator and goes to the <Gather action> of the previous answer, as Twilio does.

- The first calls identify as the demo people of app/demo.py, one each (a demo code works once), and walk
  the menus behind identification: history pages, choosing an access, emergency settings, an opposition, a
  reopening.
- Every other call walks the greeting, a silence, a wrong key, star, 0 and the check of a reference that
  does not exist, then types a NIR (one refused, then a well-formed one that is nobody's), a Vitale serial,
  a birth date and a code, confirms (the identification fails after the same two argon2 verifications as a
  success), then stays silent until the line hangs up. Unknown NIRs and calling numbers differ from call to
  call, so no lockout shortens the work. Keys are looked up in ivr/script.py STEPS by where they lead.

Between two webhooks of a call, the caller "listens and keys" for `--think` seconds (uniform ±50 %); a real
prompt lasts 3 to 15 s, so 1 s is a denser load than real calls. `--think 0` is a saturation test.
argon2 keeps the production parameters of app/config.py: ARGON2_* variables are removed from the environment.

Prints p50, p90, p99 and max in ms for all webhooks, identification webhooks (the "1" that confirms the four
details) and the others; the request and error counts; the machine. Exits 1 if any webhook failed: not 200,
not TwiML, not the kind of step expected, "Sorry, something went wrong" said, an error in gunicorn's log, or
an identification missing from the audit log (proof that each one ran in full).
"""
import argparse
import http.client
import math
import os
import platform
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for _name in [n for n in os.environ if n.startswith("ARGON2_")]:
    del os.environ[_name]  # production argon2 parameters, here and in the server started below

from stdnum.fr import nir as stdnum_nir  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from app.config import Config  # noqa: E402
from app.demo import PEOPLE  # noqa: E402
from app.domain.identifiers import CODE_ALPHABET, keypad_form  # noqa: E402
from ivr import script  # noqa: E402

TOKEN = "bench-twilio-auth-token"
KEY, NUMBER, END = "key", "number", "end"   # what an answer waits for: one key, digits then #, nothing
IDENTIFY, ACTION, OTHER = "identification", "action", "other"
SORRY = "Sorry, something went wrong. Nothing was changed."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sorry_sentences() -> set[str]:
    """What the voice adapter says when a step fails, in each language of the compiled catalogs."""
    from flask_babel import force_locale, gettext

    from app import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    out = {SORRY}
    with app.test_request_context():
        for language in app.config["LANGUAGES"]:
            with force_locale(language):
                out.add(gettext(SORRY))
    return out


@dataclass
class Sample:
    category: str
    ms: float
    problem: str | None


@dataclass
class Bench:
    port: int
    deadline: float
    think: float
    sorry: set[str]
    samples: list[Sample] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    identifications: dict[str, int] = field(default_factory=lambda: {"succeeded": 0, "failed": 0})
    lock: threading.Lock = field(default_factory=threading.Lock)
    validator: RequestValidator = field(default_factory=lambda: RequestValidator(TOKEN))

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Stop(Exception):
    """The time is up: the caller hangs up."""


class Call:
    """One phone call as Twilio makes it: signed POSTs that follow each <Gather action>."""

    def __init__(self, bench: Bench, rng: random.Random):
        self.bench, self.rng = bench, rng
        self.sid = "CA" + uuid.uuid4().hex
        self.caller = f"+3361{rng.randrange(10 ** 7):07d}"
        self.url = bench.base + "/ivr/voice"
        self.kind: str | None = None

    def _params(self, digits: str | None) -> dict:
        params = {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "From": self.caller, "To": "+33900003422",
                  "CallStatus": "in-progress", "Direction": "inbound", "ApiVersion": "2010-04-01"}
        if digits:
            params["Digits"] = digits
        return params

    def post(self, digits: str | None, expect: str, category: str = OTHER) -> None:
        """Send the caller's answer (None: silence) and check what comes back is a step of the kind expected."""
        if self.kind is not None:
            if time.monotonic() > self.bench.deadline:
                raise Stop()
            if self.bench.think:
                time.sleep(self.rng.uniform(0.5, 1.5) * self.bench.think)
        if self.kind == END:
            raise AssertionError("the call has ended")
        if self.kind == NUMBER and digits:
            digits = digits.removesuffix("#")  # Twilio leaves out the finishing key
        params = self._params(digits)
        body = urlencode(params)
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": self.bench.validator.compute_signature(self.url, params)}
        parts = urlsplit(self.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        problem = None
        start = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.bench.port, timeout=15)  # Twilio gives up at 15 s
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                text = response.read().decode("utf-8")
            finally:
                conn.close()
            ms = (time.perf_counter() - start) * 1000
            problem = self._check(response, text, expect)
        except (OSError, http.client.HTTPException) as exc:
            ms = (time.perf_counter() - start) * 1000
            problem = f"{type(exc).__name__}: {exc}"
        with self.bench.lock:
            self.bench.samples.append(Sample(category, ms, problem))
            if problem:
                self.bench.problems.append(f"{self.sid[-6:]} {path} Digits={digits!r}: {problem}")
        if problem:
            raise Stop()

    def _check(self, response, text: str, expect: str) -> str | None:
        if response.status != 200:
            return f"HTTP {response.status}"
        if not response.getheader("Content-Type", "").startswith("text/xml"):
            return "not TwiML: " + response.getheader("Content-Type", "")
        root = ET.fromstring(text)
        said = [el.text or "" for el in root.iter("Say")]
        if any(s in self.bench.sorry for s in said):
            return "the server said sorry: a step failed"
        gather = root.find("Gather")
        if root.find("Hangup") is not None:
            self.kind = END
        elif gather is not None and gather.get("finishOnKey") == "#":
            self.kind = NUMBER
        elif gather is not None and gather.get("numDigits") == "1":
            self.kind = KEY
        else:
            return "neither a <Gather> nor a <Hangup>"
        if self.kind != expect:
            return f"off script: expected a {expect} step, got a {self.kind} step: {' '.join(said)[:100]}"
        if gather is not None:
            self.url = urljoin(self.url, gather.get("action"))  # relative URLs resolve against the document
        return None

    # --- the walks ---------------------------------------------------------------------------------------

    def anonymous(self) -> None:
        """Menus, a refused NIR, then an identification that fails; silence until the line hangs up."""
        rng = self.rng
        self.post(None, KEY)                                      # greeting
        self.post(None, KEY)                                      # silence at the greeting: the menu
        self.post(wrong_key("menu"), KEY)                         # a wrong key
        self.post("*", KEY)                                       # star repeats
        if has_route("menu", "help_menu") and has_route("help_menu", "check_reference"):
            self.post(route("menu", "help_menu"), KEY)            # 0: the help menu
            self.post(route("help_menu", "check_reference"), NUMBER)
            self.post(f"{rng.randrange(10 ** 9):09d}#", KEY)      # a reference looked up, unknown: the menu
        else:
            self.post("0", KEY)                                   # help
        self.post(route("menu", "do:goal_change"), NUMBER)        # say no: the NIR is asked
        self.post("1890713055123#", NUMBER)                       # 13 digits: the key is missing, asked again
        body = f"{rng.choice('12')}{rng.randrange(30, 99):02d}{rng.randrange(1, 13):02d}75{rng.randrange(10 ** 6):06d}"
        nir = body + stdnum_nir.calc_check_digits(body)           # well formed, nobody's
        code = keypad_form("".join(rng.choice(CODE_ALPHABET) for _ in range(12)))
        self.post(nir + "#", NUMBER)
        self.post(f"80{rng.randrange(10 ** 9):09d}#", NUMBER)
        self.post(f"{rng.randrange(1, 29):02d}{rng.randrange(1, 13):02d}19{rng.randrange(30, 99)}#", NUMBER)
        self.post(code + "#", KEY)                                # the four details read back
        self.post(route("check", "do:identify"), NUMBER, IDENTIFY)  # fails: "let us try again", the NIR again
        with self.bench.lock:
            self.bench.identifications["failed"] += 1
        self.post(None, NUMBER)                                   # silence: asked again
        self.post(None, NUMBER)                                   # silence: help
        self.post(None, END)                                      # silence: goodbye, hang up

    def demo_person(self, person: tuple) -> None:
        """Identify as a demo person, then walk the menus behind identification as that person would."""
        nir, serial, _family, given, birth, *_rest = person
        code = person[9]
        self.post(None, KEY)                                      # greeting
        self.post(route("language", "do:switch_language") if given == "Paul" else None, KEY)  # Paul: English
        self.post(route("menu", "do:goal_change"), NUMBER)
        self.post(nir.replace("A", "*1").replace("B", "*2") + "#", NUMBER)
        self.post(serial + "#", NUMBER)
        self.post(birth.strftime("%d%m%Y") + "#", NUMBER)
        self.post(keypad_form(code) + "#", KEY)
        self.post(route("check", "do:identify"), KEY, IDENTIFY)
        with self.bench.lock:
            self.bench.identifications["succeeded"] += 1
        if given == "Jeanne":                                     # window open: oppose, for real
            self.post(route("oppose", "do:oppose"), KEY, ACTION)  # receipt
            self.post(route("receipt", "menu"), KEY)
            self.post(route("menu", "do:goal_history"), KEY)      # history: nobody
            self.post(route("history", "menu"), KEY)
            self.post(route("menu", "do:goal_emergency"), KEY)    # opposed: the menu says so
            self.post("*", KEY)
        elif given == "Karim":                                    # too late: history, emergency
            self.post(route("close", "menu"), KEY)                # too late to say no: close offered; the menu
            self.post(route("menu", "do:goal_history"), KEY)      # 3 of 30 accesses
            self.post(route("history", "do:history_more"), KEY)   # the next 3
            self.post(route("history", "history_pick"), NUMBER)   # pick one
            self.post("4#", KEY)                                  # access 4: report or block
            self.post(route("history_act", "history"), KEY)       # back to the history
            self.post(route("history", "do:history_send"), KEY, ACTION)  # history by SMS: receipt
            self.post(route("receipt", "menu"), KEY)
            self.post(route("menu", "do:goal_emergency"), KEY)
            self.post(route("emergency", "do:change_samu"), KEY)
            self.post(route("emergency_confirm", "do:set_emergency"), KEY, ACTION)  # receipt
            self.post(None, END)                                  # silence at the receipt: goodbye
        elif given == "Sophie":                                   # closed, deletion asked: reopen
            self.post(route("menu", "do:goal_change"), KEY)
            self.post(route("reopen", "do:reopen"), KEY, ACTION)  # receipt
            self.post(route("receipt", "menu"), KEY)
            self.post(route("menu", "do:goal_history"), KEY)
            self.post(route("history", "menu"), KEY)
        elif given == "Paul":                                     # in English, window open
            self.post(route("oppose", "do:cancel"), KEY)
            self.post(route("menu", "do:goal_emergency"), KEY)
            self.post(route("emergency", "do:change_break_glass"), KEY)
            self.post(route("emergency_confirm", "do:cancel"), KEY)
            self.post(route("menu", "do:goal_history"), KEY)
        else:                                                     # anyone else: hear it again, the history
            self.post("*", KEY)
            self.post(route("menu", "do:goal_history"), KEY)


class OffScript(Exception):
    """The call script no longer has a route the walks take: they need updating."""


def route(step: str, to: str) -> str:
    """The key that leads from `step` to `to` in ivr/script.py, so the walks follow the script's numbering."""
    if not has_route(step, to):
        raise OffScript(f"off script: ivr/script.py has no key from {step} to {to}")
    return next(key for key, target in script.STEPS[step].routes.items() if target == to)


def has_route(step: str, to: str) -> bool:
    return step in script.STEPS and to in script.STEPS[step].routes.values()


def wrong_key(step: str) -> str:
    return next(k for k in "75683" if k not in script.STEPS[step].routes)


def caller(bench: Bench, index: int, seed: int) -> None:
    rng = random.Random(seed * 1000 + index)
    if bench.think:
        time.sleep(rng.uniform(0, bench.think))  # calls do not all begin at the same instant
    first = True
    while time.monotonic() < bench.deadline:
        call = Call(bench, rng)
        try:
            if first and index < len(PEOPLE):
                call.demo_person(PEOPLE[index])
            else:
                call.anonymous()
        except Stop:
            pass
        except OffScript as exc:
            with bench.lock:
                bench.problems.append(str(exc))
            return
        first = False
        if bench.think:
            time.sleep(rng.uniform(0.5, 1.5) * bench.think)  # the next caller dials in


def percentile(sorted_ms: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p of the samples at or below it."""
    return sorted_ms[max(0, math.ceil(p * len(sorted_ms)) - 1)]


def figures(samples: list[Sample]) -> str:
    if not samples:
        return "n=0"
    ms = sorted(s.ms for s in samples)
    return (f"n={len(ms):5d}  p50 {percentile(ms, .50):6.1f}  p90 {percentile(ms, .90):6.1f}  "
            f"p99 {percentile(ms, .99):6.1f}  max {ms[-1]:6.1f}  (ms)")


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "?")
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{nproc} CPUs ({model}), {platform.system()} {platform.release()}, Python {platform.python_version()}"


def wait_until_up(port: int, server: subprocess.Popen, seconds: float = 30) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped with code {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not answer within 30 s")


def stop(server: subprocess.Popen) -> None:
    """Stop gunicorn and its workers: they run in a process group of their own."""
    if server.poll() is not None:
        return
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)
    except ProcessLookupError:
        pass


def cpu_seconds(master_pid: int) -> float:
    """CPU time used so far by gunicorn's master and workers (Linux /proc), to tell load from contention."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except OSError:
        return float("nan")
    for pid in [str(master_pid), *children]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total


def audited(db_path: str) -> dict[str, int]:
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT action, count(*) FROM audit_entry WHERE action LIKE 'identification.%' "
                          "GROUP BY action").fetchall()
    return {action.split(".", 1)[1]: n for action, n in rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20, help="calls at once (threads)")
    parser.add_argument("--seconds", type=float, default=30, help="no new webhook after this many seconds")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between two webhooks of a call")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (the Procfile's default: 2)")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (Procfile: 1)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    port = free_port()
    tmp = tempfile.mkdtemp(prefix="relais-bench-")
    db_path = os.path.join(tmp, "relais.db")
    env = dict(os.environ)
    env.update(DATABASE_URL=f"sqlite:///{db_path}", SECRET_KEY="bench-secret-key", LOOKUP_KEY="bench-lookup-key",
               TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", PYTHONUNBUFFERED="1")
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    errors_log = os.path.join(tmp, "gunicorn.log")
    server = None
    try:
        for command in (["db", "upgrade"], ["demo", "load"]):
            done = subprocess.run([*flask, *command], env=env, cwd=ROOT, capture_output=True, text=True)
            if done.returncode:
                print(done.stdout, done.stderr, file=sys.stderr)
                return 2
        sorry = sorry_sentences()
        with open(errors_log, "w") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--threads", str(args.threads),
                 "--bind", f"127.0.0.1:{port}", "--log-level", "info", "app:create_app()"],
                env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until_up(port, server)
        for _ in range(4 * args.workers):  # each worker imports its lazy modules and catalogs once
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
            conn.request("GET", "/")
            conn.getresponse().read()
            conn.close()

        load_before = os.getloadavg()[0]
        cpu_before = cpu_seconds(server.pid)
        bench = Bench(port, time.monotonic() + args.seconds, args.think, sorry)
        threads = [threading.Thread(target=caller, args=(bench, i, args.seed), daemon=True) for i in range(args.calls)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        server_cpu = cpu_seconds(server.pid) - cpu_before
    finally:
        if server is not None:
            stop(server)
    try:
        log_text = Path(errors_log).read_text(errors="replace") if os.path.exists(errors_log) else ""
        counted = audited(db_path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    problems = list(bench.problems)
    server_errors = [line for line in log_text.splitlines()
                     if "voice step failed" in line or "Traceback" in line or " ERROR " in line or "[ERROR]" in line]
    problems += [f"gunicorn log: {line}" for line in server_errors]
    for outcome in ("succeeded", "failed"):
        if counted.get(outcome, 0) != bench.identifications[outcome]:
            problems.append(f"audit log: {counted.get(outcome, 0)} identifications {outcome}, "
                            f"{bench.identifications[outcome]} made")

    samples = bench.samples
    failed = [s for s in samples if s.problem]
    print(f"machine: {machine()}")
    print(f"server:  gunicorn {_version('gunicorn')}, {args.workers} workers x {args.threads} thread(s), "
          f"SQLite file, loopback; argon2id m={Config.ARGON2_MEMORY_KIB} KiB t={Config.ARGON2_TIME_COST} "
          f"p={Config.ARGON2_PARALLELISM} (production parameters)")
    print(f"load:    {args.calls} calls at once for {wall:.1f} s, {args.think:g} s (±50 %) between a call's webhooks; "
          f"{bench.identifications['succeeded']} identifications succeeded, "
          f"{bench.identifications['failed']} failed (audit log: {counted})")
    ncpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"cpu:     the server used {server_cpu:.1f} s of CPU in {wall:.1f} s ({server_cpu / wall / ncpu:.0%} of "
          f"{ncpu} CPUs); load average before the run {load_before:.2f}, after {os.getloadavg()[0]:.2f} "
          f"(other programs on the machine skew the figures)")
    print(f"all webhooks        {figures(samples)}")
    print(f"identification      {figures([s for s in samples if s.category == IDENTIFY])}")
    print(f"other steps         {figures([s for s in samples if s.category != IDENTIFY])}")
    print(f"  of which actions  {figures([s for s in samples if s.category == ACTION])}")
    off_script = [p for p in problems if "off script" in p]
    print(f"requests: {len(samples)} ({len(samples) / wall:.1f}/s); errors: "
          f"{sum(1 for s in failed if 'off script' not in s.problem)} webhooks failed, "
          f"{len(problems) - len(off_script)} problems in all; {len(off_script)} answers off script")
    if off_script:
        print("  the call script changed: update the walks of bench/webhook_latency.py")
    if samples:
        p99 = percentile(sorted(s.ms for s in samples), .99)
        print(f"target (QUALITY §3): p99 ≤ 100 ms with 20 calls at once: "
              f"{'met' if p99 <= 100 else 'NOT met'} ({p99:.1f} ms)")
    for line in problems[:20]:
        print("  problem:", line)
    return 1 if problems or not samples else 0


def _version(package: str) -> str:
    from importlib.metadata import version
    return version(package)


if __name__ == "__main__":
    sys.exit(main())
