"""What the browser benchmarks share: Relais under gunicorn on loopback with the demo loaded, and the machine line.

    with Relais() as relais:          # a fresh SQLite database, migrated, the demo loaded, gunicorn on a free port
        relais.base                   # http://127.0.0.1:PORT
        relais.load_demo()            # the demo people as they were: their letter codes work once more
        demo_form("Jeanne")           # the four details of the identification form, as the README lists them

gunicorn runs as the Procfile runs it (`app:create_app()`, 2 workers of 4 threads, keep-alive) in a process group
of its own, and
is stopped (SIGTERM, SIGKILL after 15 s) however the benchmark ends. argon2 keeps the production parameters:
ARGON2_* variables are removed from the environment of the server.
"""
import http.client
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.demo import PEOPLE  # noqa: E402
from app.domain.identifiers import format_code  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
# The flags of QUALITY.md's recipe: nothing the browser does on its own muddles the figures.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"]


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "?")
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{nproc} CPUs ({model}), {platform.system()} {platform.release()}, Python {platform.python_version()}"


def load_average() -> str:
    """Other programs on the machine skew the figures: print this before and after a run."""
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def chromium_version() -> str:
    done = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True)
    return done.stdout.strip() or "chromium: unknown version"


def demo_form(given_name: str) -> dict[str, str]:
    """The identification form of a demo person (app/demo.py), typed as on the letter and the card."""
    nir, serial, _family, _given, birth, *_rest, code, _situation = next(p for p in PEOPLE if p[3] == given_name)
    return {"nir": nir, "vitale_serial": serial, "birth_date": birth.strftime("%d/%m/%Y"), "code": format_code(code)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# As the Procfile's web process: threads, and connections kept open between a browser's requests (on a
# 840 ms link each new connection costs a round trip).
PROCFILE_WEB_OPTIONS = ["--threads", "4", "--keep-alive", "75"]


class Relais:
    """Relais served by gunicorn on 127.0.0.1 with a throwaway SQLite database: a context manager."""

    def __init__(self, workers: int = 2):
        self.workers = workers
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.tmp = tempfile.mkdtemp(prefix="relais-bench-")
        self.log_path = os.path.join(self.tmp, "gunicorn.log")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ARGON2_")}
        self.env.update(DATABASE_URL=f"sqlite:///{os.path.join(self.tmp, 'relais.db')}", SECRET_KEY="bench-secret-key",
                        LOOKUP_KEY="bench-lookup-key", PUBLIC_BASE_URL=self.base, PYTHONUNBUFFERED="1")
        self.server: subprocess.Popen | None = None

    def __enter__(self) -> "Relais":
        try:
            self._flask("db", "upgrade")
            self.load_demo()
            with open(self.log_path, "w") as log:
                self.server = subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "--workers", str(self.workers), *PROCFILE_WEB_OPTIONS,
                     "--bind", f"127.0.0.1:{self.port}", "app:create_app()"],
                    env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            self._wait_until_up()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_exc) -> None:
        try:
            self._stop()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def load_demo(self) -> None:
        """`flask demo load`: the demo people back as they were, each letter code good for one identification."""
        self._flask("demo", "load")

    def server_errors(self) -> list[str]:
        """Lines of gunicorn's log that say something went wrong (read before leaving the `with`)."""
        text = Path(self.log_path).read_text(errors="replace") if os.path.exists(self.log_path) else ""
        return [line for line in text.splitlines() if "Traceback" in line or "[ERROR]" in line or " ERROR " in line]

    def _flask(self, *command: str) -> None:
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *command], env=self.env, cwd=ROOT,
                              capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"flask {' '.join(command)} failed:\n{done.stdout}{done.stderr}")

    def _wait_until_up(self, seconds: float = 30) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.server.poll() is not None:
                raise RuntimeError(f"gunicorn stopped with code {self.server.returncode}: see {self.log_path}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"gunicorn did not answer within {seconds:.0f} s")
        for _ in range(4 * self.workers):  # each worker imports its lazy modules and catalogs before it is measured
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
            conn.request("GET", "/identify")
            conn.getresponse().read()
            conn.close()

    def _stop(self) -> None:
        """Stop gunicorn and its workers: they run in a process group of their own."""
        if self.server is None or self.server.poll() is not None:
            return
        try:
            os.killpg(self.server.pid, signal.SIGTERM)
            self.server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.server.pid, signal.SIGKILL)
            self.server.wait(timeout=5)
        except ProcessLookupError:
            pass
