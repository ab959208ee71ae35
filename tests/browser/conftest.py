"""Browser fixtures: the app served on loopback, Debian's Chromium driven by Playwright, walks through the portal.

One server and one browser for the whole session; a new browser context (cookies, viewport, JavaScript on or
off) for each test. The database is emptied after every test (tests/conftest.py), so each test enrols the
people it needs.
"""
import os
import threading
from datetime import timedelta

import pytest
from werkzeug.serving import make_server

from .flows import People, Walk

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
LANGS = ["fr", "en"]


@pytest.fixture(scope="session")
def live_server(app):
    """The session's app on 127.0.0.1, a free port, in a daemon thread; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def new_context(browser, live_server):
    """new_context(lang="fr", **options) -> a fresh browser context with the `lang` cookie; closed afterwards."""
    contexts = []

    def make(lang: str = "fr", **options):
        options.setdefault("viewport", {"width": 1280, "height": 800})
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        context.add_cookies([{"name": "lang", "value": lang, "url": live_server}])
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def open_walk(new_context, live_server):
    """open_walk(lang, checks=(), **context options) -> a Walk in a new tab of a new context."""
    def make(lang: str = "fr", checks=(), **options) -> Walk:
        return Walk(new_context(lang, **options).new_page(), live_server, lang, checks)
    return make


@pytest.fixture
def history_of(app):
    """history_of(holder, n): n accesses in the holder's history, of every mode, the newest 1 hour ago."""
    def make(holder, n: int = 25):
        from app import clock
        from app.services import access
        with app.app_context():
            now = clock.now()
            for i in range(n):
                mode = ("normal", "samu", "break_glass")[i % 3]
                access.record_access(access.AccessAttempt(
                    nir=holder.nir, occurred_at=now - timedelta(hours=1 + 5 * i),
                    professional_name=f"Dr Claire Petit {i}", profession="Médecin généraliste",
                    organisation="Cabinet du Parc, Lyon", mode=mode, section="Ordonnances",
                    reason=None if mode == "normal" else "Patient inconscient",
                    professional_id=None if i % 4 == 3 else f"1010{i:07d}",
                    event_id=f"br-{holder.person_id}-{i}"), "cli")
    return make


@pytest.fixture
def people(app, enrol, history_of):
    return People(app, enrol, history_of)
