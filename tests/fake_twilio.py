"""A local stand-in for Twilio's REST API (Messages), so the real twilio client is exercised end to end."""
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class FakeTwilio:
    """Accepts POST /2010-04-01/Accounts/{sid}/Messages.json and keeps what was sent; can be taken down.

    `unsubscribed`: numbers that sent STOP to Twilio; a message to one is refused as Twilio does, with HTTP 400
    and error 21610 ("Attempt to send to unsubscribed recipient"), and kept in `refused`."""

    def __init__(self):
        self.sent: list[dict] = []
        self.refused: list[dict] = []
        self.unsubscribed: set[str] = set()
        self.server = None
        self.port = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if not self.path.endswith("/Messages.json") or not self.headers.get("Authorization"):
                    self.send_response(404)
                    self.end_headers()
                    return
                if form.get("To") in fake.unsubscribed:
                    fake.refused.append({**form, "path": self.path})
                    self._json(400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient",
                                     "more_info": "https://www.twilio.com/docs/errors/21610", "status": 400})
                    return
                sid = "SM" + uuid.uuid4().hex
                fake.sent.append({**form, "sid": sid, "path": self.path})
                self._json(201, {"sid": sid, "status": "queued", "to": form.get("To"), "from": form.get("From"),
                                 "body": form.get("Body"), "num_segments": "1"})

            def _json(self, status, payload):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port or 0), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
