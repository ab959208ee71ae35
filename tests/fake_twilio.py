"""A local stand-in for Twilio's REST API (Messages), so the real twilio client is exercised end to end."""
import json
import threading
import uuid
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

MESSAGES = "/Messages.json"


class FakeTwilio:
    """Accepts POST /2010-04-01/Accounts/{sid}/Messages.json and keeps what was sent; can be taken down.

    GET on the same path lists the messages as Twilio does: newest first, filtered on `To`, `From` and
    `DateSent` (`DateSent>`/`DateSent<`: on or after, on or before that day), `PageSize` a page with its
    `next_page_uri`.

    `unsubscribed`: numbers that sent STOP to Twilio; a message to one is refused as Twilio does, with HTTP 400
    and error 21610 ("Attempt to send to unsubscribed recipient"), and kept in `refused`.

    `stall(accepted=...)`: the next messages are held: each request waits (`stalled` is set when one does) until
    `release()`, then gets the answer given there (default: the usual 201). With `accepted=True` Twilio has the
    message from the start (it is in `sent` and in the list: the answer is what is late); with `accepted=False`
    it never gets it (the request hung before reaching it, and is answered 503 when released).
    `delay`: seconds every create takes."""

    def __init__(self):
        self.sent: list[dict] = []
        self.refused: list[dict] = []
        self.lookups: list[dict] = []  # each list request's filters
        self.unsubscribed: set[str] = set()
        self.delay = 0.0
        self.stalled = threading.Event()
        self._stall: dict | None = None
        self._released = threading.Event()
        self._answer: int | None = None
        self.server = None
        self.port = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stall(self, accepted: bool) -> None:
        self.stalled.clear()
        self._released.clear()
        self._stall = {"accepted": accepted}

    def release(self, status: int | None = None) -> None:
        """Let the held requests go on, answered with the usual 201 or with an error `status` (e.g. 503)."""
        self._answer = status
        self._stall = None
        self._released.set()

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if not self.path.endswith(MESSAGES) or not self.headers.get("Authorization"):
                    self._json(404, {"code": 20404, "message": "The requested resource was not found",
                                     "status": 404})
                    return
                if form.get("To") in fake.unsubscribed:
                    fake.refused.append({**form, "path": self.path})
                    self._json(400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient",
                                     "more_info": "https://www.twilio.com/docs/errors/21610", "status": 400})
                    return
                if fake.delay:
                    threading.Event().wait(fake.delay)
                stall = fake._stall
                record = {**form, "sid": "SM" + uuid.uuid4().hex, "path": self.path,
                          "date_created": datetime.now(timezone.utc)}
                if stall is None or stall["accepted"]:
                    fake.sent.append(record)
                if stall is not None:
                    fake.stalled.set()
                    fake._released.wait(60)
                    status = fake._answer or (None if stall["accepted"] else 503)
                    if status is not None:
                        self._json(status, {"code": 20500 if status >= 500 else 21211,
                                            "message": "held by the test", "status": status})
                        return
                self._json(201, _resource(record, "queued"))

            def do_GET(self):
                parts = urlsplit(self.path)
                if not parts.path.endswith(MESSAGES) or not self.headers.get("Authorization"):
                    self._json(404, {"code": 20404, "message": "The requested resource was not found",
                                     "status": 404})
                    return
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                fake.lookups.append(query)
                rows = [m for m in reversed(fake.sent)
                        if query.get("To") in (None, m.get("To")) and query.get("From") in (None, m.get("From"))
                        and _on_the_day(m["date_created"], query)]
                size, page = int(query.get("PageSize", 50)), int(query.get("Page", 0))
                chunk = rows[page * size:(page + 1) * size]
                more = (page + 1) * size < len(rows)

                def uri(n):
                    return parts.path + "?" + urlencode({**query, "Page": n, "PageSize": size})
                self._json(200, {"messages": [_resource(m, "sent") for m in chunk], "page": page, "page_size": size,
                                 "start": page * size, "end": page * size + max(len(chunk) - 1, 0),
                                 "uri": uri(page), "first_page_uri": uri(0),
                                 "next_page_uri": uri(page + 1) if more else None,
                                 "previous_page_uri": uri(page - 1) if page else None})

            def _json(self, status, payload):
                body = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up or was killed meanwhile
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port or 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.release()
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def _on_the_day(created: datetime, query: dict) -> bool:
    """Twilio's DateSent filters: by GMT day (`YYYY-MM-DD`, the client sends a whole ISO time), inclusive."""
    day = created.date()
    for key, keep in (("DateSent", day.__eq__), ("DateSent>", day.__ge__), ("DateSent<", day.__le__)):
        if key in query and not keep(datetime.fromisoformat(query[key][:10]).date()):
            return False
    return True


def _resource(m: dict, status: str) -> dict:
    """A Message resource as Twilio's API returns it (the fields the twilio client reads)."""
    when = format_datetime(m["date_created"])
    path = m["path"].removesuffix(MESSAGES)
    return {"sid": m["sid"], "account_sid": path.rsplit("/", 1)[-1], "api_version": "2010-04-01",
            "to": m.get("To"), "from": m.get("From"), "body": m.get("Body"), "status": status,
            "direction": "outbound-api", "num_segments": "1", "num_media": "0", "date_created": when,
            "date_updated": when, "date_sent": when, "error_code": None, "error_message": None, "price": None,
            "price_unit": "EUR", "messaging_service_sid": None,
            "uri": f"{path}/Messages/{m['sid']}.json", "subresource_uris": {}}
