"""Browser fixtures: the app served on loopback, and Debian's Chromium driven by Playwright."""
import os
import threading
from datetime import timedelta

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="session")
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def history_of(app):
    """history_of(holder, n): n accesses in the holder's history, of every mode."""
    def make(holder, n: int = 25):
        from app import clock
        from app.services import access
        with app.app_context():
            now = clock.now()
            for i in range(n):
                mode = ("normal", "samu", "break_glass")[i % 3]
                access.record_access(access.AccessAttempt(
                    nir=holder.nir, occurred_at=now - timedelta(hours=5 * i), professional_name=f"Dr Claire Petit {i}",
                    profession="Médecin généraliste", organisation="Cabinet du Parc, Lyon", mode=mode,
                    section="Ordonnances", reason=None if mode == "normal" else "Patient inconscient",
                    professional_id=f"1010{i:07d}", event_id=f"br-{holder.person_id}-{i}"), "cli")
    return make
