"""A real HTTP server for the session's app, and bursts of real requests from threads that leave together.

The Flask test client runs one request at a time; races between requests need a server that answers
several at once, each in its own thread with its own database connection, as gunicorn's threads would.
"""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from bs4 import BeautifulSoup
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.conftest import Page

MAX_BURST = 30   # requests in one burst, at most
TIMEOUT = 30     # seconds: each request, the barrier, the server's shutdown


class _QuietHandler(WSGIRequestHandler):
    """No access-log line per request (errors and tracebacks are still logged)."""

    def log_request(self, *args, **kwargs):
        pass


@pytest.fixture
def live_server(app):
    """The session's app served on 127.0.0.1 at a free port, one thread per request; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)


def burst(n: int, prepare, fire) -> list:
    """Run prepare(i) in n threads (fetching forms, tokens, cookies), then fire(i, prepared) in all of them
    at the same moment, behind a barrier; returns what each fire returned, in order, or raises the first error.
    """
    assert 0 < n <= MAX_BURST, n
    start = threading.Barrier(n, timeout=TIMEOUT)

    def run(i):
        try:
            prepared = prepare(i)
        except BaseException:
            start.abort()  # the others stop waiting at once
            raise
        start.wait()
        return fire(i, prepared)

    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="burst") as pool:
        futures = [pool.submit(run, i) for i in range(n)]
        return [f.result(timeout=3 * TIMEOUT) for f in futures]


class LivePage(Page):
    """A response of the live server read as a person would: status (of each hop), the parsed page."""

    def __init__(self, response: requests.Response):  # Page reads a Flask response; this one comes by HTTP
        self.response = response
        self.status = response.status_code
        self.statuses = [r.status_code for r in response.history] + [response.status_code]
        self.url = response.url
        self.html = response.text
        self.soup = BeautifulSoup(self.html, "html.parser")

    def __repr__(self) -> str:
        return f"<LivePage {self.statuses} {self.h1!r} {self.errors}>"


class Browser:
    """One person's browser on the live server: its own cookies (or a copy of another's), no JavaScript."""

    def __init__(self, base_url: str, lang: str = "en", cookies=None):
        self.base = base_url
        self.http = requests.Session()
        if cookies is not None:
            self.http.cookies.update(cookies)
        self.http.cookies.set("lang", lang)

    def get(self, path: str) -> LivePage:
        return LivePage(self.http.get(self.base + path, timeout=TIMEOUT))

    def submit(self, page: LivePage, data: dict | None = None) -> LivePage:
        """Fill the page's last POST form (the header's sign-out form comes first), redirects followed."""
        forms = [f for f in page.soup.find_all("form") if f.get("method", "get").lower() == "post"]
        assert forms, f"no form on {page!r}"
        form = forms[-1]
        fields = {i["name"]: i.get("value", "") for i in form.find_all("input")
                  if i.get("name") and i.get("type") not in ("radio", "checkbox")}
        fields.update(data or {})
        action = form.get("action") or "/"
        return LivePage(self.http.post(self.base + action, data=fields, timeout=TIMEOUT))
