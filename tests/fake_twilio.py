"""A local stand-in for Twilio's REST API (Messages), so the real twilio client is exercised end to end."""
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class FakeTwilio:
    """Accepts POST /2010-04-01/Accounts/{sid}/Messages.json and keeps what was sent; can be taken down."""

    def __init__(self):
        self.sent: list[dict] = []
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
                sid = "SM" + uuid.uuid4().hex
                fake.sent.append({**form, "sid": sid, "path": self.path})
                body = json.dumps({"sid": sid, "status": "queued", "to": form.get("To"), "from": form.get("From"),
                                   "body": form.get("Body"), "num_segments": "1"}).encode()
                self.send_response(201)
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
