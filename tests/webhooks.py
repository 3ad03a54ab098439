"""Real local HTTP servers standing in for a unit's webhook receiver: healthy, failing, hanging,
redirecting. Each records what it received."""

from __future__ import annotations

import json
import socketserver
import threading
import time
from email import message_from_bytes
from email.header import decode_header, make_header
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


class SmtpSink:
    """A real SMTP server on a local port that keeps every message it accepts (subject lines)."""

    def __init__(self):
        self.subjects: list[str] = []
        self.connections = 0
        self.lock = threading.Lock()
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                with sink.lock:
                    sink.connections += 1
                self.wfile.write(b"220 sink ESMTP\r\n")
                while line := self.rfile.readline():
                    verb = line.decode("latin-1").strip().split(" ", 1)[0].upper()
                    if verb == "DATA":
                        self.wfile.write(b"354 go ahead\r\n")
                        data = b""
                        while not data.endswith(b"\r\n.\r\n"):
                            chunk = self.rfile.readline()
                            if not chunk:
                                return
                            data += chunk
                        subject = str(make_header(decode_header(message_from_bytes(data)["Subject"])))
                        with sink.lock:
                            sink.subjects.append(subject)
                        self.wfile.write(b"250 queued\r\n")
                    elif verb == "QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    elif verb == "EHLO":
                        self.wfile.write(b"250 sink\r\n")
                    else:
                        self.wfile.write(b"250 ok\r\n")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
