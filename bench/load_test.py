"""Bounded load test: hundreds of simulated people on the web, the phone line and SMS at once, then an audit.

    scripts/with-postgres.sh .venv/bin/python bench/load_test.py [--seconds 180] [--users 400]
    .venv/bin/python bench/load_test.py --seconds 30 --users 60        # a short run, on SQLite

Relais runs as in production, on loopback: gunicorn with `--workers` sync workers (access log on), `--outbox-workers`
processes of `flask --app app outbox work` (no Twilio credentials: each message is written to their log instead of
being sent) and, halfway through, one `flask --app app jobs run`. The database is DATABASE_URL (PostgreSQL under
scripts/with-postgres.sh), else a SQLite file.

1. Setup. `flask db upgrade`; people are generated (valid NIRs from python-stdnum, letters sent 1 to 40 days ago so
   their codes are valid, most with a mobile) and enrolled with `flask enrol BATCH.csv --codes-out CODES.csv`, and
   their past accesses imported with `flask access-events import` (a few to 45 each: history pages), in parallel
   batches. The access notifications this queues are sent by the outbox workers before the load starts (the
   drain rate is printed).
2. Load, for `--seconds`, by `--users` threads, each a slot that plays one person after another (a person's letter
   code works once) until the time is up or the people run out:
   - web (`--web` share): home page, the space page (redirected to identify), identification through the form (some
     with a wrong code first), the space, the history and its next pages, sometimes a report from a history line,
     the emergency page and a change of the SAMU setting with its receipt (some double-submitted at the same
     instant from two connections: one change, one receipt expected), an opposition for some, sign-out. Each slot
     has its own source address (127.1.x.y), as each person has their own IP address: the per-client limit on
     failed identifications (50 an hour) applies per person, not to the whole test.
   - phone (`--voice` share): signed Twilio webhooks to /ivr/voice following ivr/script.py, with
     bench/webhook_latency.py's Call: greeting, menu, identification on the keypad (NIR, serial, birth date, the
     code in keypad form), history, a change of the SAMU setting with its spoken reference, an opposition for some,
     goodbye and the status callback; some webhooks are sent twice (Twilio retries: the same answer, nothing done
     twice); some calls are bench/webhook_latency.py's anonymous walk (a failed identification).
   - SMS (`--sms` share): signed /ivr/sms from the person's mobile: HISTORIQUE (the history comes by SMS through the
     outbox), URGENCE, SAMU OFF and the code round trip (the code comes back in the TwiML reply; the answer is the
     code and the date of birth; some answers are sent twice with the same MessageSid), OPPOSER with the letter's
     code for some, and messages from unregistered numbers.
   - the health-record system: `--api-rate` access events a second to POST /api/v1/access-events (some repeated
     with the same event_id), each notified to its holder through the outbox.
3. Afterwards: the outbox is left to drain, the servers are stopped, the queued letters are printed
   (`flask outbox letters`), and everything is accounted for: every receipt a person got (web page, spoken
   reference, SMS reply) is an ActionRecord with that action and channel, and every ActionRecord made during the
   test is a receipt someone got (or an SMS history sent); every receipt of a web or phone action to a holder with a
   mobile, every history sent and every access notified has exactly one outbox message; no message is left queued,
   sending or failed; each was logged by the workers exactly once; the audit log has one entry per identification
   made (succeeded or failed) and `flask audit verify` says the chain is intact.

Prints the requests and errors per kind, p50/p90/p99/max latency per kind, and the accounting. Any 5xx, any page or
TwiML that is not the one a person expects, any error in a server log, and any accounting mismatch is an error; the
script exits 1 and keeps its directory (logs, database when SQLite) for the post-mortem.
"""
import argparse
import json
import math
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
import uuid
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import population  # noqa: E402
import requests  # noqa: E402
import webhook_latency as wl  # noqa: E402  (also removes ARGON2_* from the environment: production argon2)
from requests.adapters import HTTPAdapter  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from app.domain.identifiers import keypad_form  # noqa: E402

ROOT = wl.ROOT
TOKEN = wl.TOKEN
API_KEY = "bench-operator-api-key"
KEY, NUMBER, END = wl.KEY, wl.NUMBER, wl.END
REF_SPOKEN = re.compile(r"(\d) (\d) (\d), (\d) (\d) (\d), (\d) (\d) (\d)")
REF_WRITTEN = re.compile(r"(\d{3})\s(\d{3})\s(\d{3})")


class Stop(Exception):
    """Time is up, or the flow met an error (already recorded): the person leaves."""


@dataclass
class Receipt:
    reference: str
    action: str
    channel: str
    nir: str


@dataclass
class Run:
    port: int
    deadline: float
    think: float
    rng_seed: int
    samples: dict = field(default_factory=lambda: defaultdict(list))
    errors: list = field(default_factory=list)
    receipts: list = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    api_events: dict = field(default_factory=dict)
    flows: dict = field(default_factory=lambda: defaultdict(list))   # kind -> (requests, words, keys) per flow
    timeline: list = field(default_factory=list)                      # (monotonic time, ms) of every request
    lock: threading.Lock = field(default_factory=threading.Lock)
    validator: RequestValidator = field(default_factory=lambda: RequestValidator(TOKEN))

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sample(self, kind: str, ms: float) -> None:
        with self.lock:
            self.samples[kind].append(ms)
            self.timeline.append((time.monotonic(), ms))

    def count(self, what: str, n: int = 1) -> None:
        with self.lock:
            self.counts[what] += n

    def flow(self, kind: str, requests: int, words: int = 0, keys: int = 0) -> None:
        with self.lock:
            self.flows[kind].append((requests, words, keys))

    def receipt(self, r: Receipt) -> None:
        with self.lock:
            self.receipts.append(r)

    def error(self, kind: str, request: str, detail: str, body: str = "") -> None:
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body or "")).strip()[:300]
        with self.lock:
            self.errors.append({"at": datetime.now(timezone.utc).strftime("%H:%M:%S.%f")[:-3], "kind": kind,
                                "request": request, "detail": detail, "body": text})

    def pause(self, rng: random.Random, low: float, high: float) -> None:
        """A person reads, types or listens; no new request once the time is up."""
        time.sleep(rng.uniform(low, high) * self.think)
        if time.monotonic() > self.deadline:
            raise Stop()


# --- the web ---------------------------------------------------------------------------------------------

class SourceAddress(HTTPAdapter):
    """Connections from one loopback address (127.1.x.y): one simulated person, one IP address."""

    def __init__(self, address: str, **kw):
        self.address = address
        super().__init__(**kw)

    def init_poolmanager(self, connections, maxsize, block=False, **kw):
        kw["source_address"] = (self.address, 0)
        super().init_poolmanager(connections, maxsize, block, **kw)


def csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    return m.group(1) if m else ""


def form_token(html: str) -> str:
    m = re.search(r'name="token" value="([^"]+)"', html)
    return m.group(1) if m else ""


class Browser:
    """One person's browser: cookies, no JavaScript, redirects followed one by one (each hop timed)."""

    def __init__(self, run: Run, address: str):
        self.run = run
        self.address = address
        self.s = self._session()
        self.sent = 0

    def _session(self) -> requests.Session:
        s = requests.Session()
        s.mount("http://", SourceAddress(self.address))
        s.headers.update({"Accept-Language": "fr-FR,fr;q=0.9", "User-Agent": "relais-load-test"})
        return s

    def twin(self) -> "Browser":
        """A second connection with the same cookies: the second click of a double submit."""
        other = Browser(self.run, self.address)
        other.s.cookies.update(self.s.cookies)
        return other

    def send(self, method: str, path: str, kind: str, data: dict | None = None, expect=(200,),
             to: str | None = None) -> requests.Response:
        """One request; an answer other than `expect` (or a redirect elsewhere than `to`) is an error."""
        start = time.perf_counter()
        label = f"{method} {path}"
        self.sent += 1
        try:
            r = self.s.request(method, self.run.base + path, data=data, allow_redirects=False, timeout=30)
        except requests.RequestException as exc:
            self.run.sample(kind, (time.perf_counter() - start) * 1000)
            self.run.error(kind, label, f"{type(exc).__name__}: {exc}")
            raise Stop() from None
        self.run.sample(kind, (time.perf_counter() - start) * 1000)
        location = r.headers.get("Location", "")
        problem = None
        if r.status_code not in expect:
            problem = f"HTTP {r.status_code}" + (f" to {location}" if location else "")
        elif to is not None and r.status_code in (301, 302, 303) and not urlsplit(location).path.startswith(to):
            problem = f"redirected to {location}, expected {to}"
        elif r.status_code == 200 and "text/html" not in r.headers.get("Content-Type", ""):
            problem = "not HTML: " + r.headers.get("Content-Type", "")
        if problem:
            self.run.error(kind, label, problem, r.text if r.status_code != 302 else "")
            raise Stop()
        return r

    def get(self, path: str, kind: str = "web page", **kw) -> requests.Response:
        return self.send("GET", path, kind, **kw)

    def follow(self, r: requests.Response, to: str, kind: str = "web page") -> requests.Response:
        location = urlsplit(r.headers["Location"])
        path = location.path + (f"?{location.query}" if location.query else "")
        if not location.path.startswith(to):
            self.run.error(kind, f"redirect to {path}", f"expected {to}")
            raise Stop()
        return self.get(path, kind)


def web_flow(run: Run, rng: random.Random, address: str, p: population.Person, args) -> None:
    b = Browser(run, address)
    page = b.get("/")
    run.pause(rng, 1, 4)
    r = b.get("/space", expect=(302,), to="/identify")
    page = b.follow(r, "/identify")
    run.pause(rng, 4, 10)                                              # typing the four numbers
    details = {"nir": p.nir, "vitale_serial": p.serial, "birth_date": p.birth.strftime("%d/%m/%Y"), "code": p.code}
    if rng.random() < args.typo:                                       # a wrong code first: the same page again
        wrong = dict(details, code=("AAAA" + p.code[4:]) if not p.code.startswith("AAAA") else "CCCC" + p.code[4:])
        page = b.send("POST", "/identify?next=space", "web identify", {"csrf_token": csrf(page.text), **wrong})
        if "error-summary" not in page.text:
            run.error("web identify", "POST /identify (wrong code)", "no error summary on the page", page.text)
            raise Stop()
        run.count("web identification failed")
        run.pause(rng, 2, 5)
    r = b.send("POST", "/identify?next=space", "web identify", {"csrf_token": csrf(page.text), **details},
               expect=(302,), to="/space")
    run.count("web identification succeeded")
    page = b.follow(r, "/space")
    run.pause(rng, 1, 4)
    page = b.get("/history")
    shown = page.text.count('class="entry"')
    if not min(p.events, 20) <= shown <= 20:  # (the API may have added accesses during the run)
        run.error("web page", "GET /history", f"{shown} lines shown, {min(p.events, 20)} expected", page.text)
        raise Stop()
    pages = 1
    while 'rel="next"' in page.text and pages < 3:
        run.pause(rng, 1, 3)
        pages += 1
        page = b.get(f"/history?page={pages}")
    if rng.random() < args.report_share:
        links = re.findall(r'href="(/history/\d+/report)"', page.text)
        if links:
            run.pause(rng, 1, 3)
            path = rng.choice(links)
            form = b.get(path)
            run.pause(rng, 1, 3)
            r = b.send("POST", path, "web action", {"csrf_token": csrf(form.text), "token": form_token(form.text)},
                       expect=(302,), to="/receipt/")
            receipt_page(run, b, r, "access.reported", p)
    run.pause(rng, 1, 3)
    page = b.get("/emergency")
    m = re.search(r'href="(/emergency/samu/(on|off))"', page.text)
    if not m:
        run.error("web page", "GET /emergency", "no link to change the SAMU setting", page.text)
        raise Stop()
    path, state = m.group(1), m.group(2)
    form = b.get(path)
    run.pause(rng, 1, 4)
    data = {"csrf_token": csrf(form.text), "token": form_token(form.text)}
    if rng.random() < args.double_submit:
        r = double_submit(run, b, path, data)
    else:
        r = b.send("POST", path, "web action", data, expect=(302,), to="/receipt/")
    receipt_page(run, b, r, f"emergency.samu.{state}", p)
    if rng.random() < args.oppose:
        run.pause(rng, 2, 6)
        form = b.get("/oppose")
        run.pause(rng, 3, 8)                                           # reading the consequences
        r = b.send("POST", "/oppose", "web action", {"csrf_token": csrf(form.text), "token": form_token(form.text)},
                   expect=(302,), to="/receipt/")
        receipt_page(run, b, r, "space.opposed", p)
    run.pause(rng, 1, 3)
    r = b.send("POST", "/sign-out", "web action", {"csrf_token": csrf(page.text)}, expect=(302,), to="/signed-out")
    b.follow(r, "/signed-out")
    run.count("web flows completed")
    run.flow("web", b.sent)


def double_submit(run: Run, b: Browser, path: str, data: dict) -> requests.Response:
    """Two clicks of the same confirmation at the same instant: both must lead to the same receipt."""
    twin = b.twin()
    barrier = threading.Barrier(2)
    answers: list = [None, None]

    def click(i, browser):
        barrier.wait()
        try:
            answers[i] = browser.send("POST", path, "web action", data, expect=(302,), to="/receipt/")
        except Stop:
            answers[i] = None

    t = threading.Thread(target=click, args=(1, twin))
    t.start()
    click(0, b)
    t.join()
    if answers[0] is None or answers[1] is None:
        raise Stop()
    a, c = answers[0].headers["Location"], answers[1].headers["Location"]
    run.count("web double submits")
    if urlsplit(a).path != urlsplit(c).path:
        run.error("web action", f"POST {path} twice at once", f"two receipts: {a} and {c}")
        raise Stop()
    return answers[0]


def receipt_page(run: Run, b: Browser, r: requests.Response, action: str, p: population.Person) -> None:
    ref = urlsplit(r.headers["Location"]).path.rsplit("/", 1)[-1]
    page = b.follow(r, "/receipt/")
    if f"{ref[0:3]} {ref[3:6]} {ref[6:9]}" not in page.text:
        run.error("web page", f"GET /receipt/{ref}", "the reference is not on the receipt", page.text)
        raise Stop()
    run.receipt(Receipt(ref, action, "web", p.nir))


# --- the phone line ------------------------------------------------------------------------------------

class VoiceCall(wl.Call):
    """bench/webhook_latency.py's call, remembering each answer (to read references) and each request (to retry)."""

    def __init__(self, bench: wl.Bench, rng: random.Random, run: Run, caller: str | None = None):
        super().__init__(bench, rng)
        self.run = run
        if caller:
            self.caller = caller
        self.last_text = ""
        self.sent: tuple[str, dict] | None = None
        self.words = self.keys = self.webhooks = 0

    def _params(self, digits):
        self.webhooks += 1
        self.keys += len(digits or "") + (self.kind == NUMBER and bool(digits))  # the finishing # too
        params = super()._params(digits)
        self.sent = (self.url, params)
        return params

    def _check(self, response, text, expect):
        self.last_text = text
        try:
            self.words += sum(len((el.text or "").split()) for el in ET.fromstring(text).iter("Say"))
        except ET.ParseError:
            pass
        return super()._check(response, text, expect)

    def retry(self) -> None:
        """Twilio sends the last webhook again: the answer must be the same TwiML, nothing done twice."""
        import http.client
        url, params = self.sent
        parts = urlsplit(url)
        start = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.bench.port, timeout=15)
        try:
            conn.request("POST", parts.path + (f"?{parts.query}" if parts.query else ""), body=urlencode(params),
                         headers={"Content-Type": "application/x-www-form-urlencoded",
                                  "X-Twilio-Signature": self.bench.validator.compute_signature(url, params)})
            response = conn.getresponse()
            text = response.read().decode()
        finally:
            conn.close()
        self.run.sample("voice retried webhook", (time.perf_counter() - start) * 1000)
        self.run.count("voice webhooks retried")
        if response.status != 200 or text != self.last_text:
            self.run.error("voice retried webhook", f"POST {parts.path}?{parts.query} again",
                           f"HTTP {response.status}, {'same' if text == self.last_text else 'a different'} answer",
                           text)
            raise wl.Stop()

    def reference(self) -> str:
        said = " ".join(el.text or "" for el in ET.fromstring(self.last_text).iter("Say"))
        m = REF_SPOKEN.search(said)
        if not m:
            self.run.error("voice action", f"call {self.sid[-6:]}", "no reference said after the action", said)
            raise wl.Stop()
        return "".join(m.groups())

    def hang_up(self) -> None:
        """Twilio's status callback at the end of the call."""
        import http.client
        url = self.bench.base + "/ivr/status"
        params = {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "CallStatus": "completed",
                  "From": self.caller, "To": "+33900003422", "CallDuration": "120"}
        start = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.bench.port, timeout=15)
        try:
            conn.request("POST", "/ivr/status", body=urlencode(params),
                         headers={"Content-Type": "application/x-www-form-urlencoded",
                                  "X-Twilio-Signature": self.bench.validator.compute_signature(url, params)})
            response = conn.getresponse()
            response.read()
        finally:
            conn.close()
        self.run.sample("voice status callback", (time.perf_counter() - start) * 1000)
        if response.status not in (200, 204):
            self.run.error("voice status callback", "POST /ivr/status", f"HTTP {response.status}")

    def person(self, p: population.Person, oppose: bool, retry: float) -> None:
        route = wl.route
        self.post(None, KEY)                                                    # greeting
        self.post(route("language", "do:switch_language") if p.language == "en" else None, KEY)
        self.post(route("menu", "do:goal_history"), NUMBER)                     # the history: identify first
        self.post(p.nir + "#", NUMBER)
        self.post(p.serial + "#", NUMBER)
        self.post(p.birth.strftime("%d%m%Y") + "#", NUMBER)
        self.post(keypad_form(p.code) + "#", KEY)                               # the four read back
        self.post(route("check", "do:identify"), KEY, wl.IDENTIFY)              # the history, 3 at a time
        self.run.count("voice identification succeeded")
        with self.bench.lock:
            self.bench.identifications["succeeded"] += 1
        if p.events > 3:
            self.post(route("history", "do:history_more"), KEY)
        self.post(route("history", "menu"), KEY)
        self.post(route("menu", "do:goal_emergency"), KEY)
        self.post(route("emergency", "do:change_samu"), KEY)
        self.post(route("emergency_confirm", "do:set_emergency"), KEY, wl.ACTION)
        self.run.receipt(Receipt(self.reference(), "emergency.samu.off", "voice", p.nir))
        if self.rng.random() < retry:
            self.retry()
        if oppose:
            self.post(route("receipt", "menu"), KEY)
            self.post(route("menu", "do:goal_change"), KEY)                     # the window is open: say no
            self.post(route("oppose", "do:oppose"), KEY, wl.ACTION)
            self.run.receipt(Receipt(self.reference(), "space.opposed", "voice", p.nir))
            if self.rng.random() < retry:
                self.retry()
        self.post(None, END)                                                    # silence at the receipt: goodbye
        self.hang_up()
        self.run.count("voice calls completed")
        self.run.flow("voice opposing" if oppose else "voice", self.webhooks, self.words, self.keys)


class TimedSamples(list):
    """bench/webhook_latency.py's list of samples, each kept with the moment it was taken."""

    def append(self, sample) -> None:
        super().append((time.monotonic(), sample))


# --- SMS -----------------------------------------------------------------------------------------------

def sms(run: Run, phone: str, body: str, kind: str, sid: str | None = None) -> tuple[str, str]:
    """One signed inbound SMS; returns (MessageSid, the text of the reply, '' when none)."""
    import http.client
    sid = sid or "SM" + uuid.uuid4().hex
    url = run.base + "/ivr/sms"
    params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32, "From": phone, "To": "+33900003422",
              "Body": body, "NumMedia": "0", "NumSegments": "1", "ApiVersion": "2010-04-01"}
    start = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", run.port, timeout=15)
        try:
            conn.request("POST", "/ivr/sms", body=urlencode(params),
                         headers={"Content-Type": "application/x-www-form-urlencoded",
                                  "X-Twilio-Signature": run.validator.compute_signature(url, params)})
            response = conn.getresponse()
            text = response.read().decode()
        finally:
            conn.close()
    except OSError as exc:
        run.sample(kind, (time.perf_counter() - start) * 1000)
        run.error(kind, f"SMS {body!r}", f"{type(exc).__name__}: {exc}")
        raise Stop() from None
    run.sample(kind, (time.perf_counter() - start) * 1000)
    if response.status != 200 or not response.getheader("Content-Type", "").startswith("text/xml"):
        run.error(kind, f"SMS {body!r}", f"HTTP {response.status} {response.getheader('Content-Type')}", text)
        raise Stop()
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        run.error(kind, f"SMS {body!r}", "not TwiML", text)
        raise Stop() from None
    return sid, " ".join("".join(el.itertext()) for el in root.iter("Message")).strip()


def sms_flow(run: Run, rng: random.Random, p: population.Person, args, unknown_reply: dict) -> None:
    sent = 0

    def send(phone: str, body: str, kind: str, sid: str | None = None) -> tuple[str, str]:
        nonlocal sent
        sent += 1
        return sms(run, phone, body, kind, sid)

    def expect(ok: bool, body: str, reply: str, what: str):
        if not ok:
            run.error("sms", f"SMS {body!r}", what, reply)
            raise Stop()

    _sid, reply = send(p.phone, "HISTORIQUE", "sms command")
    expect(reply == "", "HISTORIQUE", reply, "the history must come through the outbox, not in the reply")
    run.count("sms histories asked")
    run.pause(rng, 2, 6)
    _sid, reply = send(p.phone, "URGENCE", "sms command")
    expect("SAMU" in reply, "URGENCE", reply, "no emergency settings in the reply")
    run.pause(rng, 2, 6)
    _sid, reply = send(p.phone, "SAMU OFF", "sms command")
    code = re.search(r"\b(\d{6})\b", reply)
    expect(code is not None, "SAMU OFF", reply, "no one-time code in the reply")
    run.count("sms codes sent")
    run.pause(rng, 4, 10)                                                   # reading the code, typing the answer
    answer = f"{code.group(1)} {p.birth.strftime('%d%m%Y')}"
    sid, reply = send(p.phone, answer, "sms confirm")
    ref = REF_WRITTEN.search(reply)
    expect(ref is not None, answer, reply, "no reference in the answer to the code")
    run.receipt(Receipt("".join(ref.groups()), "emergency.samu.off", "sms", p.nir))
    if rng.random() < args.retry:                                           # Twilio sends the answer again
        _sid, again = send(p.phone, answer, "sms retried", sid=sid)
        run.count("sms retried")
        expect(again == reply, answer + " (same MessageSid)", again, f"a different answer than {reply!r}")
    if rng.random() < args.oppose:
        run.pause(rng, 3, 8)
        _sid, reply = send(p.phone, "OPPOSER", "sms command")
        code = re.search(r"\b(\d{6})\b", reply)
        expect(code is not None, "OPPOSER", reply, "no one-time code in the reply")
        run.count("sms codes sent")
        run.pause(rng, 5, 12)
        answer = f"{code.group(1)} {p.code}"
        _sid, reply = send(p.phone, answer, "sms confirm")
        ref = REF_WRITTEN.search(reply)
        expect(ref is not None, answer, reply, "no reference in the answer to the code")
        run.receipt(Receipt("".join(ref.groups()), "space.opposed", "sms", p.nir))
    if rng.random() < args.unknown:                                          # someone not registered
        phone = f"+337{rng.randrange(10 ** 8):08d}"
        body = rng.choice(["HISTORIQUE", "SAMU OFF", "OPPOSER", "123456 01011950"])
        _sid, reply = send(phone, body, "sms command")
        with run.lock:
            first = unknown_reply.setdefault("text", reply)
        expect(reply == first, f"{body} from an unknown number", reply, f"not the same answer as {first!r}")
        run.count("sms from unknown numbers")
    run.count("sms flows completed")
    run.flow("sms", sent)


# --- the health-record system ------------------------------------------------------------------------------

def api_feeder(run: Run, rate: float, people: list[population.Person], seed: int) -> None:
    import http.client
    rng = random.Random(seed)
    sent: list[tuple[dict, dict]] = []
    next_at = time.monotonic()
    while time.monotonic() < run.deadline:
        next_at += rng.expovariate(rate)
        time.sleep(max(0.0, next_at - time.monotonic()))
        if time.monotonic() > run.deadline:
            break
        repeat = sent and rng.random() < 0.05
        if repeat:
            event, first = rng.choice(sent)
        else:
            p = rng.choice(people)
            name, profession, organisation, rpps = rng.choice(population.PROFESSIONALS)
            mode = rng.choices(["normal", "samu", "break_glass"], weights=[90, 6, 4])[0]
            event = {"nir": p.nir, "occurred_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                     "professional_name": name, "profession": profession, "organisation": organisation,
                     "mode": mode, "section": rng.choice(population.SECTIONS), "event_id": "api-" + uuid.uuid4().hex}
            if mode != "normal":
                event["reason"] = "Malaise"
            if rpps:
                event["professional_id"] = rpps
        start = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", run.port, timeout=30)
            conn.request("POST", "/api/v1/access-events", body=json.dumps(event),
                         headers={"Content-Type": "application/json", "Authorization": f"Bearer {API_KEY}"})
            response = conn.getresponse()
            text = response.read().decode()
            conn.close()
        except OSError as exc:
            run.sample("api access event", (time.perf_counter() - start) * 1000)
            run.error("api access event", "POST /api/v1/access-events", f"{type(exc).__name__}: {exc}")
            continue
        run.sample("api access event", (time.perf_counter() - start) * 1000)
        if response.status != 201:
            run.error("api access event", "POST /api/v1/access-events", f"HTTP {response.status}", text)
            continue
        answer = json.loads(text)
        if repeat:
            run.count("api events repeated")
            if answer != first:
                run.error("api access event", "POST /api/v1/access-events (same event_id)",
                          f"a different answer: {answer} then {first}")
        else:
            sent.append((event, answer))
            run.count("api events")
            with run.lock:
                run.api_events[event["event_id"]] = answer


# --- slots -------------------------------------------------------------------------------------------------

def slot(run: Run, kind: str, index: int, pool: list, pool_lock: threading.Lock, bench: wl.Bench, args,
         unknown_reply: dict) -> None:
    rng = random.Random(run.rng_seed * 100_003 + index)
    address = f"127.1.{index // 250}.{index % 250 + 1}"
    time.sleep(rng.uniform(0, min(10.0, args.seconds / 6)))                 # people do not all arrive at once
    while time.monotonic() < run.deadline:
        if kind == "voice" and rng.random() < args.anonymous:
            call = VoiceCall(bench, rng, run)
            try:
                call.anonymous()
                run.count("voice anonymous calls")
                call.hang_up()
                run.flow("voice anonymous", call.webhooks, call.words, call.keys)
            except (wl.Stop, Stop):
                pass
            except wl.OffScript as exc:
                run.error("voice webhook", "the walk", str(exc))
                return
            continue
        with pool_lock:
            p = pool.pop() if pool else None
        if p is None:
            run.count(f"{kind} slots out of people")
            return
        try:
            if kind == "web":
                web_flow(run, rng, address, p, args)
            elif kind == "voice":
                VoiceCall(bench, rng, run, p.phone).person(p, rng.random() < args.oppose, args.retry)
            else:
                sms_flow(run, rng, p, args, unknown_reply)
        except (Stop, wl.Stop):
            pass
        except wl.OffScript as exc:
            run.error("voice webhook", "the walk", str(exc))
            return
        except Exception as exc:  # a bug of this script: say it, do not hide it
            run.error(kind, "the load test itself", f"{type(exc).__name__}: {exc}")
            return
        try:
            run.pause(rng, 1, 5)                                            # the next person arrives
        except Stop:
            return


# --- the servers -------------------------------------------------------------------------------------------

def start_outbox_workers(env: dict, n: int, tmp: str, interval: float) -> list[tuple[subprocess.Popen, str]]:
    out = []
    for i in range(n):
        path = os.path.join(tmp, f"outbox-{i}.log")
        with open(path, "w") as log:
            p = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "outbox", "work",
                                  "--interval", str(interval)], env=env, cwd=ROOT, stdout=log,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        out.append((p, path))
    return out


def engine_for(url: str):
    from sqlalchemy import create_engine
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    return create_engine(url)


def outbox_pending(engine) -> int:
    from sqlalchemy import text
    with engine.connect() as c:
        return c.execute(text("SELECT count(*) FROM outbox_message WHERE channel != 'letter' "
                              "AND status IN ('queued', 'sending')")).scalar()


def wait_for_drain(engine, seconds: float) -> tuple[bool, float]:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if outbox_pending(engine) == 0:
            return True, time.monotonic() - start
        time.sleep(0.5)
    return False, time.monotonic() - start


# --- the accounting ----------------------------------------------------------------------------------------

def account(engine, run: Run, t0: datetime, logs: dict[str, str], letters_printed: int | None,
            letters_queued: int, bench: wl.Bench) -> tuple[list[str], list[str]]:
    """Everything the people were told is in the database, once; every message went out once."""
    from sqlalchemy import text
    lines, problems = [], []
    with engine.connect() as c:
        q = lambda sql, **kw: c.execute(text(sql), kw).all()  # noqa: E731
        records = {r.reference: r for r in q("SELECT reference, action, channel, subject_id, created_at "
                                             "FROM action_record WHERE created_at >= :t0", t0=t0)}
        got = {}
        for r in run.receipts:
            if r.reference in got:
                problems.append(f"receipt {r.reference} given twice ({got[r.reference].action}, {r.action})")
            got[r.reference] = r
        missing = [r for r in got.values() if r.reference not in records]
        wrong = [r for r in got.values() if r.reference in records and
                 (records[r.reference].action, records[r.reference].channel) != (r.action, r.channel)]
        by_channel = Counter(r.channel for r in got.values())
        channels = ", ".join(f"{k} {v}" for k, v in sorted(by_channel.items()))
        lines.append(f"receipts people got: {len(got)} ({channels}); "
                     f"action records made during the run: {len(records)}")
        for r in missing[:10]:
            problems.append(f"receipt {r.reference} ({r.action}, {r.channel}) is not an ActionRecord")
        for r in wrong[:10]:
            rec = records[r.reference]
            problems.append(f"receipt {r.reference}: told {r.action} by {r.channel}, "
                            f"recorded {rec.action} by {rec.channel}")
        unknown = [rec for ref, rec in records.items() if ref not in got]
        histories = [rec for rec in unknown if rec.action == "history.sent" and rec.channel == "sms"]
        reminders = [rec for rec in unknown if rec.action == "reminder.sent" and rec.channel == "job"]
        others = [rec for rec in unknown if rec not in histories and rec not in reminders]
        asked = run.counts["sms histories asked"]
        lines.append(f"SMS histories: {asked} asked, {len(histories)} recorded; reminders of the window's end sent by "
                     f"`jobs run`: {len(reminders)}; other records nobody was told of: {len(others)}")
        if len(histories) != asked:
            problems.append(f"{asked} histories asked by SMS, {len(histories)} recorded")
        for rec in others[:10]:
            problems.append(f"ActionRecord {rec.reference} ({rec.action}, {rec.channel}) is nobody's receipt: a "
                            f"duplicate, or an action whose answer was lost")

        # Messages: one per receipt of a web or phone action to a holder with a mobile, per history, per access.
        one_each = q("""SELECT a.reference, a.action, a.channel, count(o.id) AS n FROM action_record a
                        JOIN person p ON p.id = a.subject_id LEFT JOIN outbox_message o ON o.reference = a.reference
                        WHERE a.created_at >= :t0 AND (a.action IN ('history.sent', 'reminder.sent') OR
                              (a.channel IN ('web', 'voice') AND p.phone IS NOT NULL))
                        GROUP BY a.reference, a.action, a.channel HAVING count(o.id) != 1""", t0=t0)
        for row in one_each[:10]:
            problems.append(f"receipt {row.reference} ({row.action}, {row.channel}) has {row.n} outbox messages, not 1")
        notices = q("""SELECT e.event_key, count(o.id) AS n FROM access_event e
                       LEFT JOIN outbox_message o ON o.access_event_id = e.id
                       WHERE e.recorded_at >= :t0 GROUP BY e.event_key""", t0=t0)
        api_keys = set(run.api_events)
        recorded_keys = {row.event_key for row in notices}
        bad_notices = [row for row in notices if row.n != 1]
        lines.append(f"access events by the API: {len(api_keys)} distinct sent, {len(recorded_keys)} recorded, "
                     f"{len(notices) - len(bad_notices)} with exactly one notification")
        if api_keys - recorded_keys:
            problems.append(f"{len(api_keys - recorded_keys)} access events answered 201 are not recorded")
        if recorded_keys - api_keys:
            problems.append(f"{len(recorded_keys - api_keys)} access events recorded that were not sent (duplicates?)")
        for row in bad_notices[:10]:
            problems.append(f"access event {row.event_key} has {row.n} notifications, not 1")

        status = q("SELECT channel, status, count(*) AS n FROM outbox_message GROUP BY channel, status "
                   "ORDER BY channel, status")
        lines.append("outbox now: " + ", ".join(f"{r.channel} {r.status} {r.n}" for r in status))
        stuck = [r for r in status if r.channel != "letter" and r.status in ("queued", "sending", "failed")]
        for r in stuck:
            problems.append(f"{r.n} {r.channel} messages left {r.status}")
        if any(r.channel == "letter" and r.status == "queued" for r in status):
            problems.append("letters left queued after `flask outbox letters`")
        logged_ids = {r.id for r in q("SELECT id FROM outbox_message WHERE status = 'logged'")}
        made_during = q("SELECT count(*) AS n FROM outbox_message WHERE created_at >= :t0", t0=t0)[0].n

        seen = Counter()
        for name, text_ in logs.items():
            for m in re.finditer(r"relais\.outbox outbox (\w+) #(\d+) to", text_):
                seen[int(m.group(2))] += 1
        twice = {i: n for i, n in seen.items() if n > 1}
        lines.append(f"outbox: {made_during} messages queued during the run; {len(logged_ids)} marked logged in all, "
                     f"{len(seen)} distinct ids in the workers' and jobs' logs, {sum(seen.values())} log lines; "
                     f"letters: {letters_queued} queued, {letters_printed} printed")
        for i, n in list(twice.items())[:10]:
            problems.append(f"outbox message #{i} was sent {n} times")
        if set(seen) != logged_ids:
            only_db, only_log = logged_ids - set(seen), set(seen) - logged_ids
            problems.append(f"outbox: {len(only_db)} marked logged but never in a log (first {sorted(only_db)[:5]}), "
                            f"{len(only_log)} in a log but not marked logged (first {sorted(only_log)[:5]})")
        if letters_printed is not None and letters_printed != letters_queued:
            problems.append(f"{letters_queued} letters queued, {letters_printed} printed")

        audit = dict(q("SELECT action, count(*) FROM audit_entry WHERE at >= :t0 AND action LIKE 'identification.%' "
                       "GROUP BY action", t0=t0))
        made_ok = run.counts["web identification succeeded"] + bench.identifications["succeeded"]
        made_ko = run.counts["web identification failed"] + bench.identifications["failed"]
        lines.append(f"identifications: {made_ok} succeeded and {made_ko} failed by the people; audit log: "
                     f"{audit.get('identification.succeeded', 0)} and {audit.get('identification.failed', 0)}")
        if audit.get("identification.succeeded", 0) != made_ok or audit.get("identification.failed", 0) != made_ko:
            problems.append("identifications in the audit log differ from those made")
        per_s = q("SELECT count(*) AS n FROM audit_entry WHERE at >= :t0", t0=t0)[0].n
        lines.append(f"audit entries written during the run: {per_s}")
    return lines, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180, help="length of the load (people stop at the end)")
    parser.add_argument("--users", type=int, default=400, help="simulated people at once (threads)")
    parser.add_argument("--web", type=float, default=0.5, help="share of the users on the web")
    parser.add_argument("--voice", type=float, default=0.25, help="share on the phone line (the rest: SMS)")
    parser.add_argument("--think", type=float, default=1.5, help="scale of every pause (reading, typing, listening)")
    parser.add_argument("--voice-think", type=float, default=2.5, help="mean seconds between two webhooks of a call")
    parser.add_argument("--people", type=int, default=0, help="people to enrol (default: enough for the run)")
    parser.add_argument("--api-rate", type=float, default=5.0, help="access events a second from the API")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--outbox-workers", type=int, default=3, help="`flask outbox work` processes")
    parser.add_argument("--typo", type=float, default=0.1, help="share of web identifications with a wrong code first")
    parser.add_argument("--oppose", type=float, default=0.25, help="share of people who also say no")
    parser.add_argument("--report-share", type=float, default=0.1, help="share of web users who report an access")
    parser.add_argument("--double-submit", type=float, default=0.1, help="share of web confirmations clicked twice")
    parser.add_argument("--retry", type=float, default=0.1, help="share of voice/SMS actions Twilio sends twice")
    parser.add_argument("--anonymous", type=float, default=0.15, help="share of calls that fail to identify")
    parser.add_argument("--unknown", type=float, default=0.1, help="share of SMS flows with an unregistered number")
    parser.add_argument("--no-jobs", action="store_true", help="do not run `flask jobs run` halfway")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the working directory even when all is well")
    args = parser.parse_args()
    if args.seconds > 900 or args.users > 2000:
        raise SystemExit("bounded: at most 900 s and 2000 users")

    rng = random.Random(args.seed)
    ncpu = len(os.sched_getaffinity(0))
    db_url = os.environ.get("DATABASE_URL", "")
    tmp = tempfile.mkdtemp(prefix="relais-load-")
    if not db_url.startswith("postgresql"):
        db_url = f"sqlite:///{os.path.join(tmp, 'relais.db')}"
        print("note: no PostgreSQL DATABASE_URL: SQLite, one writer at a time (run under scripts/with-postgres.sh)")
    port = wl.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_") and not k.startswith("SMTP_")}
    env.update(DATABASE_URL=db_url, SECRET_KEY="bench-secret-key", LOOKUP_KEY="bench-lookup-key",
               TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", OPERATOR_API_KEY=API_KEY,
               PYTHONUNBUFFERED="1")
    n_web = round(args.users * args.web)
    n_voice = round(args.users * args.voice)
    n_sms = args.users - n_web - n_voice
    # How many people each kind of slot can use up: a flow takes about this long, pauses included.
    flow_s = {"web": 26 * args.think, "voice": 18 * args.voice_think, "sms": 17 * args.think}
    need = {k: math.ceil(n * (args.seconds / flow_s[k] + 1) * 1.3)
            for k, n in (("web", n_web), ("voice", n_voice), ("sms", n_sms))}
    need["voice"] = math.ceil(need["voice"] * (1 - args.anonymous))
    if args.people:
        total = sum(need.values())
        need = {k: max(1, args.people * v // total) for k, v in need.items()}

    server = None
    workers: list = []
    jobs_out = {"rc": None, "out": "", "seconds": 0.0}
    logs: dict[str, str] = {}
    failed = True
    try:
        t_setup = time.perf_counter()
        population.flask_cli(env, "db", "upgrade")
        people = {}
        start = 0
        for kind in ("web", "voice", "sms"):
            folks = population.make_people(need[kind], rng, start=start, window_open_share=0.7,
                                           mobile_share=1.0 if kind == "sms" else 0.9)
            start += need[kind]
            for p in folks:
                p.events = rng.choices(*{"web": ([2, 5, 12, 25, 45], [35, 30, 20, 10, 5]),
                                         "voice": ([0, 2, 5], [1, 1, 1]), "sms": ([0, 1, 3], [1, 1, 1])}[kind])[0]
                p.tags.add(kind)
            people[kind] = folks
        everyone = [p for folks in people.values() for p in folks]
        loaded = population.load(env, everyone, tmp, rng, processes=ncpu, run_id=f"load-{args.seed}-{time.time_ns()}")
        setup_s = time.perf_counter() - t_setup
        engine = engine_for(db_url)
        backlog = outbox_pending(engine)
        workers = start_outbox_workers(env, args.outbox_workers, tmp, 0.5)
        drained, drain_s = wait_for_drain(engine, 600)
        if not drained:
            raise SystemExit(f"the outbox did not drain its backlog of {backlog} in 600 s")

        gunicorn_log = os.path.join(tmp, "gunicorn.log")
        access_log = os.path.join(tmp, "access.log")
        with open(gunicorn_log, "w") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--worker-class", "sync",
                 "--bind", f"127.0.0.1:{port}", "--access-logfile", access_log, "--log-level", "info",
                 "app:create_app()"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wl.wait_until_up(port, server)
        for _ in range(4 * args.workers):
            requests.get(f"http://127.0.0.1:{port}/", timeout=15)

        t0 = datetime.now(timezone.utc).replace(tzinfo=None)
        load_before = os.getloadavg()[0]
        cpu0 = wl.cpu_seconds(server.pid)
        started = time.monotonic()
        run = Run(port, started + args.seconds, args.think, args.seed)
        bench = wl.Bench(port, run.deadline, args.voice_think, wl.sorry_sentences(), samples=TimedSamples())
        unknown_reply: dict = {}
        threads = []
        pools = {k: list(v) for k, v in people.items()}
        locks = {k: threading.Lock() for k in pools}
        index = 0
        for kind, n in (("web", n_web), ("voice", n_voice), ("sms", n_sms)):
            for _ in range(n):
                threads.append(threading.Thread(target=slot, args=(run, kind, index, pools[kind], locks[kind], bench,
                                                                    args, unknown_reply), daemon=True))
                index += 1
        if args.api_rate > 0:
            threads.append(threading.Thread(target=api_feeder, args=(run, args.api_rate, everyone, args.seed),
                                            daemon=True))

        def jobs():
            time.sleep(args.seconds / 2)
            t = time.perf_counter()
            done = population.flask_cli(env, "jobs", "run", check=False)
            jobs_out.update(rc=done.returncode, out=(done.stdout + done.stderr), seconds=time.perf_counter() - t)
        if not args.no_jobs:
            threads.append(threading.Thread(target=jobs, daemon=True))
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max(1.0, run.deadline - time.monotonic() + 90))
        wall = time.monotonic() - started
        server_cpu = wl.cpu_seconds(server.pid) - cpu0
        load_after = os.getloadavg()[0]
        alive = sum(t.is_alive() for t in threads)

        drained_after, drain_after_s = wait_for_drain(engine, 180)
        wl.stop(server)
        for p, _path in workers:
            wl.stop(p)
        from sqlalchemy import text
        with engine.connect() as c:
            letters_queued = c.execute(text("SELECT count(*) FROM outbox_message WHERE channel = 'letter' "
                                            "AND status = 'queued'")).scalar()
        letters = population.flask_cli(env, "outbox", "letters", os.path.join(tmp, "letters.html"), check=False)
        m = re.search(r"(\d+) letter", letters.stdout)
        letters_printed = int(m.group(1)) if m else None
        verify = population.flask_cli(env, "audit", "verify", check=False)

        logs = {os.path.basename(path): Path(path).read_text(errors="replace") for _p, path in workers}
        logs["jobs run"] = jobs_out["out"]
        server_log = Path(gunicorn_log).read_text(errors="replace")
        account_lines, problems = account(engine, run, t0, logs, letters_printed, letters_queued, bench)
    finally:
        if server is not None:
            wl.stop(server)
        for p, _path in workers:
            wl.stop(p)

    # --- what happened -------------------------------------------------------------------------------------
    for at, s in bench.samples:
        run.samples["voice " + {wl.IDENTIFY: "identify", wl.ACTION: "action"}.get(s.category, "webhook")].append(s.ms)
        run.timeline.append((at, s.ms))
    for line in bench.problems:
        run.error("voice webhook", "call", line)
    server_errors = [line for line in server_log.splitlines()
                     if "Traceback" in line or "[ERROR]" in line or " ERROR " in line or "[CRITICAL]" in line
                     or "voice step failed" in line]
    for name, text_ in logs.items():
        server_errors += [f"{name}: {line}" for line in text_.splitlines()
                          if "Traceback" in line or " ERROR " in line or "failed for good" in line]
    if jobs_out["rc"] not in (None, 0):
        problems.append(f"`flask jobs run` failed ({jobs_out['rc']}): {jobs_out['out'][-500:]}")
    if not drained_after:
        problems.append("the outbox had not drained 180 s after the load")
    if alive:
        problems.append(f"{alive} simulated people still running after the deadline")
    if verify.returncode or "intact" not in verify.stdout:
        problems.append(f"audit verify: {verify.stdout.strip()} {verify.stderr.strip()[-300:]}")

    all_ms = [ms for v in run.samples.values() for ms in v]
    print(f"machine: {wl.machine()}")
    backend = "PostgreSQL" if db_url.startswith("postgresql") else "SQLite"
    print(f"server:  gunicorn {wl._version('gunicorn')}, {args.workers} sync workers, access log on; "
          f"{args.outbox_workers} outbox workers; {backend}; loopback; argon2id production parameters; "
          f"client and servers share the {ncpu} CPUs")
    print(f"setup:   {loaded['people']} people enrolled and {loaded['events']} past accesses imported in "
          f"{setup_s:.0f} s "
          f"({ncpu} processes); the {backlog} access notifications this queued were sent by "
          f"{args.outbox_workers} workers in {drain_s:.1f} s ({backlog / max(drain_s, 0.001):.0f}/s)")
    print(f"load:    {args.users} people at once ({n_web} web, {n_voice} phone, {n_sms} SMS) + {args.api_rate:g} "
          f"access events/s for {wall:.0f} s; pauses x{args.think:g}, {args.voice_think:g} s between webhooks; "
          f"{len(all_ms)} requests ({len(all_ms) / wall:.0f}/s)")
    print(f"cpu:     gunicorn used {server_cpu:.0f} s of CPU in {wall:.0f} s "
          f"({server_cpu / wall / ncpu:.0%} of {ncpu} CPUs); "
          f"load average {load_before:.2f} before, {load_after:.2f} at the end")
    if jobs_out["rc"] is not None:
        print(f"jobs:    `flask jobs run` halfway: exit {jobs_out['rc']} in {jobs_out['seconds']:.1f} s: "
              f"{(jobs_out['out'].strip().splitlines() or [''])[-1][:150]}")
    print("done:    " + ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items())))
    for kind, flows in sorted(run.flows.items()):
        reqs = sorted(f[0] for f in flows)
        line = f"flows:   {kind}: {len(flows)} completed, {statistics.median(reqs):g} requests each (median)"
        if kind.startswith("voice"):
            words, keys = statistics.median(f[1] for f in flows), statistics.median(f[2] for f in flows)
            line += (f", {words:g} words said ({words * 60 / 150:.0f} s at 150 words a minute) and {keys:g} keys "
                     f"pressed (median)")
        print(line)
    errors_by_kind = Counter(e["kind"] for e in run.errors)
    print(f"{'kind':24s} {'requests':>8s} {'errors':>6s} {'p50':>7s} {'p90':>7s} {'p99':>7s} {'max':>7s}  (ms)")
    for kind in sorted(run.samples):
        ms = sorted(run.samples[kind])
        print(f"{kind:24s} {len(ms):8d} {errors_by_kind.get(kind, 0):6d} {wl.percentile(ms, .5):7.1f} "
              f"{wl.percentile(ms, .9):7.1f} {wl.percentile(ms, .99):7.1f} {ms[-1]:7.1f}")
    if all_ms:
        ms = sorted(all_ms)
        print(f"{'all':24s} {len(ms):8d} {len(run.errors):6d} {wl.percentile(ms, .5):7.1f} "
              f"{wl.percentile(ms, .9):7.1f} "
              f"{wl.percentile(ms, .99):7.1f} {ms[-1]:7.1f}")
    for kind in sorted(set(errors_by_kind) - set(run.samples)):
        print(f"{kind:24s} {'':8s} {errors_by_kind[kind]:6d}")
    step = max(10.0, math.ceil(wall / 10 / 10) * 10)
    buckets = defaultdict(list)
    for at, ms in run.timeline:
        buckets[int((at - started) // step)].append(ms)
    print(f"over time ({step:g} s steps; `flask jobs run` from {args.seconds / 2:.0f} s for "
          f"{jobs_out['seconds']:.0f} s): " + "; ".join(
              f"{int(b * step)}-{int((b + 1) * step)} s {len(v) / step:.0f}/s p50 {wl.percentile(sorted(v), .5):.0f} "
              f"p99 {wl.percentile(sorted(v), .99):.0f}" for b, v in sorted(buckets.items())))
    print("accounting:")
    for line in account_lines:
        print("  " + line)
    print("  " + (verify.stdout.strip() or verify.stderr.strip()[-200:]))
    n_problems = len(run.errors) + len(problems) + len(server_errors)
    print(f"errors: {len(run.errors)} requests, {len(server_errors)} lines in the server logs, "
          f"{len(problems)} in the accounting")
    for e in run.errors[:20]:
        print(f"  request error at {e['at']} [{e['kind']}] {e['request']}: {e['detail']}"
              + (f" — page: {e['body'][:200]}" if e["body"] else ""))
    for line in server_errors[:20]:
        print("  server log:", line[:300])
    for p in problems[:30]:
        print("  accounting:", p)
    failed = n_problems > 0
    if failed or args.keep:
        with open(os.path.join(tmp, "errors.json"), "w") as f:
            json.dump({"requests": run.errors, "server_log": server_errors, "accounting": problems}, f, indent=1)
        print(f"kept for the post-mortem: {tmp} (gunicorn.log, access.log, outbox-*.log, errors.json"
              f"{', relais.db' if backend == 'SQLite' else ''})")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
