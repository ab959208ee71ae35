"""Network time of whole flows in headless Chromium on emulated EDGE and 3G links, JavaScript on and off.

    .venv/bin/python bench/browser_speed.py [--runs 1]

Serves Relais under gunicorn on loopback (bench/_server.py: fresh SQLite database, demo loaded) and drives
Debian's Chromium through two flows, each in a fresh browser context (cold cache, no cookie):

- opposition: home → "Say no…" → identification as Jeanne Martin → the consequences → "Yes, I say no" → receipt;
- history: home → "See who looked…" → identification as Karim Benali → "Myself" (Karim is Léa's parent, so
  he is asked whom he acts for) → history page 1 → page 2 → the "What was done" tab.

With JavaScript on, htmx (static/htmx.min.js, deferred, a year in the cache) comes with the identification page,
the first that loads it, and its bytes are in that navigation's; the history's page 2 is then swapped in place by
htmx (a request for the list alone, timed from its request to the end of its answer, no load event); the slip
checks htmx asks for as the person leaves the NIR and card fields happen while typing, untimed, and are counted
apart ("while typing").

The link is shaped by Chrome's DevTools protocol, `Network.emulateNetworkConditions`, before the first request:
EDGE is WebPageTest's "Edge" profile (240 kbit/s down, 200 up, 840 ms round trip), 3G Chrome's "3G" (400 kbit/s
both ways, 400 ms). Every profile runs with JavaScript on, then off. The demo is loaded again before each flow
(a letter code works once).

A navigation's network time runs from its first request (Network.requestWillBeSent) to the page's load event
(Page.loadEventFired), both on the browser's clock: typing into the form is not in it, the server's work is.
Its bytes are Network.loadingFinished's encodedDataLength (headers and gzip body as sent) plus the redirect
responses; a stylesheet served from the browser's cache is counted apart, without bytes.

The emulation delays each request by the round trip but charges nothing for opening a TCP connection, and
gunicorn's sync workers close the connection after each answer: the figures are also given with one more round
trip for each connection opened ("+ handshakes"), closer to a real cold link (HTTPS would add one more each).

Prints, per profile × JavaScript × flow, each navigation (network time, requests, connections opened, bytes)
and the flow's totals, then a summary with the EDGE target of QUALITY.md (≤ 10 s a flow). Exits 1 only when
something failed (a page not reached, an HTTP 5xx, a navigation faster than the emulated round trip, an error in
gunicorn's log), never for a missed target.
"""
import argparse
import itertools
import statistics
import sys
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from _server import CHROMIUM, CHROMIUM_FLAGS, Relais, chromium_version, demo_form, load_average, machine
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

TARGET_SECONDS = 10.0  # QUALITY.md §1: a whole opposition on emulated EDGE
SETTLED = "() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping, .htmx-added')"


@dataclass(frozen=True)
class Profile:
    name: str
    down_kbps: int
    up_kbps: int
    rtt_ms: int

    def conditions(self) -> dict:
        """Network.emulateNetworkConditions parameters: latency in ms, throughputs in bytes per second."""
        return {"offline": False, "latency": self.rtt_ms, "downloadThroughput": self.down_kbps * 1000 / 8,
                "uploadThroughput": self.up_kbps * 1000 / 8}

    def __str__(self) -> str:
        return f"{self.name} ({self.down_kbps}/{self.up_kbps} kbit/s, {self.rtt_ms} ms round trip)"


PROFILES = [Profile("EDGE", 240, 200, 840), Profile("3G", 400, 400, 400)]


@dataclass
class Navigation:
    label: str
    path: str
    seconds: float
    requests: int     # sent to the network, each redirect hop counted
    cached: int       # served from the browser's cache (the stylesheet, after the first page)
    connections: int  # TCP connections opened (gunicorn's sync workers close each one after one answer)
    bytes: int        # received: headers and bodies as encoded on the wire
    script: int = 0   # of which htmx's (with JavaScript on, the first page that loads it)
    in_place: bool = False  # swapped in by htmx, not a page loaded
    painted: float | None = None  # first contentful paint, from the navigation's start: the page readable


@dataclass
class FlowResult:
    profile: Profile
    js: bool
    flow: str
    navigations: list[Navigation] = field(default_factory=list)
    typing_requests: int = 0  # htmx's slip checks, sent while the person types (untimed)
    typing_bytes: int = 0

    @property
    def seconds(self) -> float:
        return sum(n.seconds for n in self.navigations)

    @property
    def requests(self) -> int:
        return sum(n.requests for n in self.navigations)

    @property
    def connections(self) -> int:
        return sum(n.connections for n in self.navigations)

    @property
    def bytes(self) -> int:
        return sum(n.bytes for n in self.navigations)

    @property
    def with_handshakes(self) -> float:
        """The emulation charges no TCP handshake: one more round trip for each connection opened."""
        return self.seconds + self.connections * self.profile.rtt_ms / 1000


class FlowFailed(Exception):
    """A page was not reached or the server failed: the figures of this flow mean nothing."""


class Tab:
    """One page of a fresh browser context on a shaped link; each navigation is measured from DevTools events."""

    def __init__(self, context, base: str, profile: Profile, js: bool = False):
        self.page = context.new_page()
        self.base, self.profile, self.js = base, profile, js
        self.navigations: list[Navigation] = []
        self.urls: dict[str, str] = {}  # request id -> URL, to tell htmx's bytes apart
        self.typing_requests = self.typing_bytes = 0
        self.server_errors: list[str] = []
        self.connection_ids: set = set()  # of the whole tab: a kept-alive connection is opened once
        self.page.on("response", self._on_response)
        self.cdp = context.new_cdp_session(self.page)
        for event, handler in (("Network.requestWillBeSent", self._sent),
                               ("Network.requestServedFromCache", self._from_cache),
                               ("Network.responseReceived", self._received),
                               ("Network.loadingFinished", self._finished),
                               ("Page.loadEventFired", self._loaded)):
            self.cdp.on(event, handler)
        self.cdp.send("Network.enable")
        self.cdp.send("Page.enable")
        self.cdp.send("Network.emulateNetworkConditions", profile.conditions())
        self._reset()

    # --- DevTools events of the navigation under way --------------------------------------------

    def _on_response(self, response) -> None:
        if response.status >= 500:
            self.server_errors.append(f"HTTP {response.status} {response.url}")

    def _reset(self) -> None:
        self.first_sent = self.loaded_at = self.last_finished = None
        self.requests = self.cached = self.connections = self.bytes = self.script = self.finished = 0

    def _sent(self, event: dict) -> None:
        if self.first_sent is None:
            self.first_sent = event["timestamp"]
        self.urls[event["requestId"]] = event["request"]["url"]
        self.requests += 1
        if "redirectResponse" in event:  # the same request id goes on after a redirect: count the 302 received
            self.bytes += event["redirectResponse"].get("encodedDataLength", 0)
            self._connection(event["redirectResponse"])

    def _from_cache(self, _event: dict) -> None:
        self.requests -= 1
        self.cached += 1

    def _received(self, event: dict) -> None:
        self._connection(event["response"])

    def _connection(self, response: dict) -> None:
        # A response from the cache carries the id of the connection that first brought it: not counted again.
        # (`connectionReused` is no help: Chromium marks a socket it opened ahead of the request as reused.)
        connection = response.get("connectionId")
        if connection and connection not in self.connection_ids:
            self.connection_ids.add(connection)
            self.connections += 1

    def _finished(self, event: dict) -> None:
        self.bytes += int(event["encodedDataLength"])
        self.last_finished = event["timestamp"]
        self.finished += 1
        if "/assets/htmx." in self.urls.get(event["requestId"], ""):
            self.script += int(event["encodedDataLength"])

    def _loaded(self, event: dict) -> None:
        self.loaded_at = event["timestamp"]

    # --- what the flows do -----------------------------------------------------------------------

    def open(self, label: str, path: str) -> None:
        self._measure(label, path, lambda: self.page.goto(self.base + path, wait_until="load"))

    def click(self, label: str, selector: str, lands_on: str) -> None:
        """Click and wait for the page it loads; `lands_on`: the path (and query) it must begin with."""
        target = self.page.locator(selector).first
        if not target.count():
            raise FlowFailed(f"{self.path}: nothing matches {selector!r}")

        def navigate():
            with self.page.expect_navigation(wait_until="load"):
                target.click()
        self._measure(label, lands_on, navigate)

    def fill(self, values: dict[str, str]) -> None:
        """Type into the fields; with htmx, leaving the NIR and card fields asks for their slip: counted apart."""
        self._reset()
        for name, value in values.items():
            self.page.fill(f"#{name}", value)
        if self.js:
            self.page.locator("main form button").first.focus()  # the last field left, as a person goes to the button
            self.page.wait_for_function(SETTLED)
            for _ in range(500):  # our DevTools session may hear of the last answer just after htmx settled
                if self.finished >= self.requests:
                    break
                self.page.wait_for_timeout(10)
        self.typing_requests += self.requests
        self.typing_bytes += self.bytes

    def swap(self, label: str, selector: str, expect: str, lands_on: str) -> None:
        """Click what htmx swaps in place: from its request to the end of the answer; no page loaded."""
        self._reset()
        self.page.evaluate("() => { window.__same = true; }")
        self.page.locator(selector).first.click()
        self.page.wait_for_selector(expect, state="attached")
        self.page.wait_for_function(SETTLED)
        if self.server_errors:
            raise FlowFailed("server error: " + "; ".join(self.server_errors))
        if not self.page.evaluate("() => window.__same === true"):
            raise FlowFailed(f"{label}: a page was loaded, not swapped in place")
        if not self.path.startswith(lands_on):
            raise FlowFailed(f"{label}: the address is {self.path}, expected {lands_on}")
        if self.first_sent is None or self.last_finished is None:
            raise FlowFailed(f"{label}: no request seen")
        seconds = self.last_finished - self.first_sent
        if seconds < self.profile.rtt_ms / 1000:
            raise FlowFailed(f"{label}: faster than one round trip: Chromium did not apply the network emulation")
        self.navigations.append(Navigation(label, self.path, seconds, self.requests, self.cached, self.connections,
                                           self.bytes, self.script, in_place=True))

    def check(self, selector: str) -> None:
        self.page.locator(selector).first.check()

    @property
    def path(self) -> str:
        parts = urlsplit(self.page.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def _measure(self, label: str, lands_on: str, navigate) -> None:
        self._reset()
        navigate()
        for _ in range(500):  # our DevTools session may hear of the load event just after Playwright's
            if self.loaded_at is not None:
                break
            self.page.wait_for_timeout(10)
        if self.server_errors:
            raise FlowFailed("server error: " + "; ".join(self.server_errors))
        if not self.path.startswith(lands_on):
            raise FlowFailed(f"{label}: landed on {self.path}, expected {lands_on}")
        if self.loaded_at is None or self.first_sent is None:
            raise FlowFailed(f"{label}: no load event or no request seen on {self.path}")
        if self.loaded_at - self.first_sent < self.profile.rtt_ms / 1000:
            raise FlowFailed(f"{label}: faster than one round trip: Chromium did not apply the network emulation")
        self.navigations.append(Navigation(label, self.path, self.loaded_at - self.first_sent, self.requests,
                                           self.cached, self.connections, self.bytes, self.script, painted=self._fcp()))

    def _fcp(self) -> float | None:
        """First contentful paint (Paint Timing), in seconds since the navigation began; None where it cannot be
        read. A deferred script delays the load event, not the paint: the page is readable and usable before."""
        try:
            ms = self.page.evaluate("() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime")
        except PlaywrightError:
            return None
        return ms / 1000 if ms else None


# --- the flows: a person's clicks, typing untimed ---------------------------------------------------

def opposition(tab: Tab) -> None:
    tab.open("home", "/")
    tab.click("identification form", "main a[href='/identify?next=oppose']", "/identify")
    tab.fill(demo_form("Jeanne"))
    tab.click("identified: consequences", "main form button", "/oppose")
    tab.click("said no: receipt", "main form button.warning", "/receipt/")
    if tab.page.locator(".panel .ref").count() != 1:
        raise FlowFailed(f"{tab.path}: no receipt reference")


def history(tab: Tab) -> None:
    tab.open("home", "/")
    tab.click("identification form", "main a[href='/identify?next=history']", "/identify")
    tab.fill(demo_form("Karim"))
    tab.click("identified: whom for?", "main form button", "/acting-for")
    tab.check("main input[type=radio]")  # the first choice: himself
    tab.click("history, page 1", "main form button", "/history")
    if tab.js:  # htmx: the list of page 2 alone, swapped in place
        tab.swap("history, page 2 (htmx)", "a[rel=next]", "a[rel=prev]", "/history?page=2")
    else:
        tab.click("history, page 2", "a[rel=next]", "/history?page=2")
    tab.click("what was done", "a[href='/history/activity']", "/history/activity")


FLOWS = {"opposition": opposition, "history": history}


# --- running and printing ----------------------------------------------------------------------------

def run_flow(browser, relais: Relais, profile: Profile, js: bool, name: str) -> FlowResult:
    relais.load_demo()  # a letter code works once
    context = browser.new_context(java_script_enabled=js, locale="fr-FR")
    context.set_default_timeout(60_000)
    try:
        tab = Tab(context, relais.base, profile, js)
        FLOWS[name](tab)
        return FlowResult(profile, js, name, tab.navigations, tab.typing_requests, tab.typing_bytes)
    finally:
        context.close()


def print_flow(result: FlowResult) -> None:
    print(f"{result.profile}, JavaScript {'on' if result.js else 'off'}, {result.flow}: {result.seconds:.2f} s, "
          f"{result.requests} requests, {result.connections} connections, {result.bytes:,} bytes")
    for n in result.navigations:
        cache = f"+{n.cached} cached" if n.cached else ""
        script = f"  (htmx {n.script:,} bytes; painted at {n.painted:.2f} s)" if n.script and n.painted else \
            f"  (htmx {n.script:,} bytes)" if n.script else ""
        print(f"    {n.label:25} {n.path:25} {n.seconds:5.2f} s  {n.requests} req {cache:9} {n.connections} conn "
              f"{n.bytes:6,} bytes{script}")
    if result.typing_requests:
        print(f"    while typing: {result.typing_requests} slip checks (htmx), {result.typing_bytes:,} bytes, untimed")


def verdict(profile: Profile, seconds: float) -> str:
    if profile.name != "EDGE":
        return "—"
    return "met" if seconds <= TARGET_SECONDS else "NOT met"


def print_summary(results: list[FlowResult], runs: int) -> None:
    print()
    print(f"summary: {'median (min–max) of ' + str(runs) + ' runs' if runs > 1 else 'one run'} each; "
          f"'+ handshakes' adds one round trip for each TCP connection opened, which the emulation does not charge")
    script = next((n for r in results for n in r.navigations if n.script), None)
    if script:
        print(f"htmx, JavaScript on: {script.script:,} bytes, fetched once with the {script.label!r} page (then a year "
              "in the cache), in that page's network time (the load event waits for a deferred script, the paint "
              "does not)")
    print(f"  {'profile':7} {'JS':3} {'flow':10} {'network time':>20} {'req':>4} {'conn':>4} {'bytes':>7}  "
          f"{'≤ 10 s (EDGE)':13}  + handshakes")
    for profile, js, flow in itertools.product(PROFILES, (True, False), FLOWS):
        same = [r for r in results if r.profile == profile and r.js == js and r.flow == flow]
        if not same:
            continue
        times = [r.seconds for r in same]
        median = statistics.median(times)
        spread = f" ({min(times):.2f}–{max(times):.2f})" if runs > 1 else ""
        estimate = statistics.median(r.with_handshakes for r in same)
        first = same[0]
        print(f"  {profile.name:7} {'on' if js else 'off':3} {flow:10} {f'{median:.2f} s{spread}':>20} "
              f"{first.requests:>4} {first.connections:>4} {first.bytes:>7,}  {verdict(profile, median):13}  "
              f"{estimate:.2f} s" + (f" ({verdict(profile, estimate)})" if profile.name == "EDGE" else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="times each profile × JavaScript × flow is run")
    args = parser.parse_args()

    print(f"machine:  {machine()}; {load_average()} before the run")
    print(f"browser:  {chromium_version()}, headless, fresh context per flow (cold cache), locale fr-FR")
    print("server:   gunicorn 'app:create_app()', 2 sync workers, SQLite, loopback; gzip as Relais sends it")
    print("measure:  per navigation, first request sent → load event (DevTools clock), typing excluded;")
    print("          bytes = headers + encoded bodies received (Network.loadingFinished encodedDataLength)")
    print()
    results: list[FlowResult] = []
    failures: list[str] = []
    with Relais() as relais, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            for _run, profile, js, flow in itertools.product(range(args.runs), PROFILES, (True, False), FLOWS):
                try:
                    result = run_flow(browser, relais, profile, js, flow)
                except (FlowFailed, PlaywrightError) as exc:
                    failures.append(f"{profile.name}, JS {'on' if js else 'off'}, {flow}: {exc}")
                    print(f"FAILED {failures[-1]}")
                    continue
                results.append(result)
                print_flow(result)
        finally:
            browser.close()
        failures += [f"gunicorn log: {line}" for line in relais.server_errors()]
    print_summary(results, args.runs)
    print(f"{load_average()} after the run")
    for line in failures:
        print("  problem:", line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
