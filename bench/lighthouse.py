"""Lighthouse performance and accessibility scores (mobile preset) of four Relais pages, in Debian's Chromium.

    .venv/bin/python bench/lighthouse.py [--lang fr] [--out DIR]

Installs the Lighthouse pinned in bench/lighthouse/package.json on first run (`npm ci --prefix bench/lighthouse`:
lighthouse 13.5.0, and Node 22 from npm's `node` package, because lighthouse 13 needs node >= 22.19 and Debian
has 20). Serves Relais under gunicorn on loopback (bench/_server.py: fresh SQLite database, demo loaded), then
signs in twice over HTTP with the demo identities, as a browser would (CSRF token and all):

- Karim Benali, for his history (30 accesses: a full page of 20, the heaviest page of the portal);
- Jeanne Martin, who says no, for the receipt of her opposition.

Lighthouse (default mobile form factor and simulated throttling) then audits, one after the other: the home
page, the identification page, /history with Karim's session and /receipt/<reference> with Jeanne's. The session
cookie goes in `--extra-headers` {"Cookie": ...} with `lang=<--lang>`, on every page; sessions last 15 idle
minutes, the whole run about a minute. A signed-in page that Lighthouse saw redirected (to /identify) is an error.

Prints, per page, the performance and accessibility scores, the metrics behind the performance score, the
accessibility audits that failed, and whether the targets of QUALITY.md are met (accessibility 100,
performance ≥ 95). Exits 1 only when something failed (install, sign-in, Lighthouse), never for a missed target.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
from _server import CHROMIUM, CHROMIUM_FLAGS, Relais, chromium_version, demo_form, load_average, machine

HERE = Path(__file__).resolve().parent / "lighthouse"
NODE = HERE / "node_modules" / ".bin" / "node"
LIGHTHOUSE = HERE / "node_modules" / "lighthouse" / "cli" / "index.js"
TARGETS = {"performance": 95, "accessibility": 100}  # QUALITY.md §2, scores out of 100
METRICS = ["first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift",
           "speed-index"]


class LighthouseFailed(Exception):
    pass


# --- signing in over HTTP, as a browser without JavaScript would -------------------------------------

class _MainForm(HTMLParser):
    """The action and the hidden fields of the first form inside <main> (the header has the sign-out form)."""

    def __init__(self):
        super().__init__()
        self.in_main = self.done = False
        self.action: str | None = None
        self.hidden: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "main":
            self.in_main = True
        elif tag == "form" and self.in_main and self.action is None:
            self.action = attrs.get("action", "")
        elif tag == "input" and self.action is not None and not self.done and attrs.get("type") == "hidden":
            self.hidden[attrs["name"]] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form" and self.action is not None:
            self.done = True


def submit(http: requests.Session, page: requests.Response, values: dict[str, str] | None = None) -> requests.Response:
    """Fill the page's main form (hidden fields kept) and post it, following redirects."""
    form = _MainForm()
    form.feed(page.text)
    if form.action is None:
        raise LighthouseFailed(f"{page.url}: no form in <main>")
    response = http.post(urljoin(page.url, form.action), data={**form.hidden, **(values or {})}, timeout=30)
    response.raise_for_status()
    return response


def landed(response: requests.Response, path: str) -> None:
    if not urlsplit(response.url).path.startswith(path):
        raise LighthouseFailed(f"expected {path}, landed on {response.url}")


def sign_in(base: str, given_name: str, step: str) -> tuple[requests.Session, requests.Response]:
    """Identify with a demo person's letter code (one use each) from /identify?next=<step>: the session, and the
    page it lands on."""
    http = requests.Session()
    page = http.get(f"{base}/identify?next={step}", timeout=30)
    page.raise_for_status()
    response = submit(http, page, demo_form(given_name))
    if urlsplit(response.url).path == "/identify":
        raise LighthouseFailed(f"identification as {given_name} failed")
    return http, response


def cookie_header(http: requests.Session, lang: str) -> str:
    return "; ".join([f"{c.name}={c.value}" for c in http.cookies if c.name != "lang"] + [f"lang={lang}"])


# --- Lighthouse --------------------------------------------------------------------------------------

def install() -> None:
    if NODE.exists() and LIGHTHOUSE.exists():
        return
    print(f"installing lighthouse: npm ci --prefix {HERE}")
    done = subprocess.run(["npm", "ci", "--prefix", str(HERE), "--no-audit", "--no-fund"], capture_output=True,
                          text=True)
    if done.returncode or not (NODE.exists() and LIGHTHOUSE.exists()):
        raise LighthouseFailed(f"npm ci failed:\n{done.stdout}{done.stderr}")


def lighthouse(url: str, cookie: str, report: Path) -> dict:
    """Run Lighthouse on one URL and return its result (the LHR)."""
    command = [str(NODE), str(LIGHTHOUSE), url, "--only-categories=performance,accessibility", "--output=json",
               f"--output-path={report}", "--quiet", f"--chrome-flags={' '.join(['--headless=new', *CHROMIUM_FLAGS])}",
               f"--extra-headers={json.dumps({'Cookie': cookie})}"]
    done = subprocess.run(command, env={**os.environ, "CHROME_PATH": CHROMIUM}, capture_output=True, text=True,
                          timeout=300)
    if done.returncode or not report.exists():
        raise LighthouseFailed(f"lighthouse exited {done.returncode} on {url}:\n{done.stderr[-2000:]}")
    lhr = json.loads(report.read_text())
    if lhr.get("runtimeError"):
        raise LighthouseFailed(f"{url}: {lhr['runtimeError'].get('code')}: {lhr['runtimeError'].get('message')}")
    if lhr.get("finalDisplayedUrl") != url:
        raise LighthouseFailed(f"{url}: Lighthouse was sent to {lhr.get('finalDisplayedUrl')} (signed out?)")
    return lhr


def score(lhr: dict, category: str) -> int | None:
    value = lhr["categories"][category]["score"]
    return None if value is None else round(value * 100)


def failed_accessibility_audits(lhr: dict) -> list[str]:
    """The accessibility audits that count towards the score and did not pass (each passes or fails: axe rules).
    The performance score is made of the metrics, printed with their values."""
    audits = lhr["audits"]
    return [f"{ref['id']}: {audits[ref['id']]['title']}" for ref in lhr["categories"]["accessibility"]["auditRefs"]
            if ref.get("weight") and audits[ref["id"]]["score"] not in (None, 1)]


def print_settings(lhr: dict, lang: str) -> None:
    """How Lighthouse ran: the same for every page."""
    settings = lhr["configSettings"]
    throttling = settings["throttling"]
    node = subprocess.run([str(NODE), "--version"], capture_output=True, text=True).stdout.strip()
    print(f"lighthouse: {lhr['lighthouseVersion']} on Node {node.lstrip('v')}, {settings['formFactor']}, "
          f"{settings['throttlingMethod']} throttling (RTT {throttling['rttMs']:g} ms, "
          f"{throttling['throughputKbps']:g} kbit/s, CPU ×{throttling['cpuSlowdownMultiplier']:g}); "
          f"benchmark index of this machine {lhr['environment']['benchmarkIndex']:.0f}")
    print(f"pages:      in {'French' if lang == 'fr' else 'English'}, served by gunicorn 'app:create_app()' "
          f"(2 sync workers, SQLite, loopback)")
    print()


def print_page(name: str, path: str, lhr: dict) -> None:
    scores = {category: score(lhr, category) for category in TARGETS}
    verdicts = ", ".join(f"{category} {scores[category]} (target {'=' if target == 100 else '≥'} {target}: "
                         f"{'met' if scores[category] is not None and scores[category] >= target else 'NOT met'})"
                         for category, target in TARGETS.items())
    print(f"{name:15} {path:22} {verdicts}")
    metrics = "; ".join(f"{m.replace('-', ' ')} {lhr['audits'][m].get('displayValue', '?')}" for m in METRICS)
    print(f"{'':15} {metrics}")
    for line in failed_accessibility_audits(lhr):
        print(f"{'':15} accessibility audit not passed: {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=["fr", "en"], default="fr", help="language of the pages (lang cookie)")
    parser.add_argument("--out", type=Path, help="keep the JSON reports in this directory")
    args = parser.parse_args()

    print(f"machine:    {machine()}; {load_average()} before the run")
    print(f"browser:    {chromium_version()}")
    out = args.out or Path(tempfile.mkdtemp(prefix="relais-lighthouse-"))
    out.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    try:
        install()
        with Relais() as relais:
            base = relais.base
            karim, _whom_for = sign_in(base, "Karim", "history")  # Léa's parent: asked whom for; himself by default
            landed(karim.get(f"{base}/history", timeout=30), "/history")
            jeanne, consequences = sign_in(base, "Jeanne", "oppose")
            landed(consequences, "/oppose")
            receipt = submit(jeanne, consequences)                  # "Yes, I say no"
            landed(receipt, "/receipt/")
            anonymous = f"lang={args.lang}"
            pages = [("home", "/", anonymous), ("identification", "/identify", anonymous),
                     ("history", "/history", cookie_header(karim, args.lang)),
                     ("receipt", urlsplit(receipt.url).path, cookie_header(jeanne, args.lang))]
            settings_shown = False
            for name, path, cookie in pages:
                try:
                    lhr = lighthouse(base + path, cookie, out / f"{name}.json")
                except (LighthouseFailed, subprocess.TimeoutExpired) as exc:
                    problems.append(str(exc))
                    print(f"{name:15} {path:22} FAILED: {exc}")
                    continue
                if not settings_shown:
                    print_settings(lhr, args.lang)
                    settings_shown = True
                print_page(name, path, lhr)
            problems += [f"gunicorn log: {line}" for line in relais.server_errors()]
    except (LighthouseFailed, requests.RequestException, RuntimeError) as exc:
        problems.append(str(exc))
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)
    print(f"{load_average()} after the run" + (f"; JSON reports in {args.out}" if args.out else ""))
    for line in problems:
        print("  problem:", line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
