"""Real local HTTP servers standing in for a unit's webhook receiver: healthy, failing, hanging,
redirecting. Each records what it received."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, status: int = 200, *, hang: float = 0.0, location: str = ""):
        self.requests: list[tuple[dict, bytes]] = []
        self.status, self.hang, self.location = status, hang, location
        self.lock = threading.Lock()
        self.release = threading.Event()  # set to end every hang at once
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests.append((dict(self.headers), body))
                if receiver.hang:
                    receiver.release.wait(receiver.hang)
                try:
                    self.send_response(receiver.status)
                    if receiver.location:
                        self.send_header("Location", receiver.location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def notification_ids(self) -> list[int]:
        with self.lock:
            return [json.loads(body)["id"] for _headers, body in self.requests]

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def wait_until(predicate, timeout: float = 30, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
