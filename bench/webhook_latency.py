"""Voice webhook latency under 20 concurrent calls: gunicorn on loopback, signed requests, p50/p90/p99.

Usage: .venv/bin/python bench/webhook_latency.py [--calls 20] [--seconds 30]
Production argon2 parameters are kept: identification steps pay two real verifications.
"""
import argparse
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import xml.etree.ElementTree as ET

import requests
from stdnum.fr import nir as stdnum_nir
from twilio.request_validator import RequestValidator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from app.domain.identifiers import keypad_form  # noqa: E402

TOKEN = "bench-token"
KARIM = ("189071305512376", "80987654321", "21071989", keypad_form("K7XM2RC9F4HA"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Call:
    def __init__(self, base: str, results: list, lock: threading.Lock, think: float):
        self.base, self.results, self.lock, self.think = base, results, lock, think
        self.sid = "CA" + uuid.uuid4().hex
        self.session = requests.Session()
        self.validator = RequestValidator(TOKEN)
        self.action = "/ivr/voice"
        self.caller = f"+3361{random.randrange(10**7):07d}"

    def post(self, kind: str, digits: str | None = None) -> None:
        params = {"CallSid": self.sid, "From": self.caller, "To": "+33900003422", "AccountSid": "AC" + "0" * 32}
        if digits is not None:
            params["Digits"] = digits
        url = self.base + self.action
        headers = {"X-Twilio-Signature": self.validator.compute_signature(url, params)}
        start = time.perf_counter()
        response = self.session.post(url, data=params, headers=headers, timeout=15)
        elapsed = (time.perf_counter() - start) * 1000
        ok = response.status_code == 200
        gather = ET.fromstring(response.text).find("Gather") if ok else None
        if gather is not None:
            self.action = gather.get("action")
        with self.lock:
            self.results.append((kind, elapsed, ok))
        if self.think:
            time.sleep(random.uniform(0.5, 1.5) * self.think)  # the caller listens and presses keys

    def walk(self) -> None:
        """Greeting, menu, a wrong key, star, then an identification that fails (two argon2 checks)."""
        self.post("menu")
        self.post("menu", "")
        self.post("menu", "7")
        self.post("menu", "*")
        self.post("menu", "1")
        # A different (unknown, well-formed) NIR per call: no lockout, and the same two argon2 checks.
        body = f"1{random.randrange(50, 99)}0{random.randrange(1, 10)}75{random.randrange(10**6):06d}"
        nir, serial, birth = body + stdnum_nir.calc_check_digits(body), KARIM[1], KARIM[2]
        self.post("digits", nir)
        self.post("digits", serial)
        self.post("digits", birth)
        self.post("digits", "2" * 12)
        self.post("identify", "1")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--think", type=float, default=1.0,
                        help="seconds between two webhooks of a call (0 = saturation test)")
    args = parser.parse_args()
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="relais-bench-")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/bench.db", "SECRET_KEY": "bench", "LOOKUP_KEY": "bench",
           "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    flask = [os.path.join(ROOT, ".venv/bin/flask"), "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run([*flask, "demo", "load"], env=env, cwd=ROOT, check=True, capture_output=True)
    server = subprocess.Popen([os.path.join(ROOT, ".venv/bin/gunicorn"), "--workers", str(args.workers),
                               "--threads", "4", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
                               "app:create_app()"], env=env, cwd=ROOT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(base + "/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        results: list = []
        lock = threading.Lock()
        deadline = time.monotonic() + args.seconds

        def caller():
            while time.monotonic() < deadline and len(results) < args.calls * 200:
                Call(base, results, lock, args.think).walk()

        threads = [threading.Thread(target=caller) for _ in range(args.calls)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=10)

    def figures(rows):
        times = sorted(ms for _, ms, _ in rows)
        q = lambda p: times[min(len(times) - 1, int(p * len(times)))]  # noqa: E731
        return f"n={len(times)} p50={q(.5):.1f} ms p90={q(.9):.1f} ms p99={q(.99):.1f} ms max={times[-1]:.1f} ms"

    errors = sum(1 for *_, ok in results if not ok)
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, gunicorn {args.workers} workers x 4 "
          f"threads, SQLite; {args.calls} concurrent calls for {wall:.1f} s, {args.think} s between webhooks")
    print("all webhooks:      " + figures(results))
    print("menu and digits:   " + figures([r for r in results if r[0] != "identify"]))
    print("identification:    " + figures([r for r in results if r[0] == "identify"]))
    print(f"throughput: {len(results) / wall:.0f} webhooks/s; errors: {errors}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
