"""A national-system double: a real HTTP server, started by the tests, that takes FHIR
transaction Bundles the way a partner does (conditional updates by identifier, so a
resend updates rather than duplicates) and misbehaves on command."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class NationalDouble:
    """`commands`: what to do with the next requests, in order ("accept", "error500",
    "timeout", "reject:<i>" to refuse entry i, "reject_all", "drop" to close the connection
    without answering, as a server closing an idle kept connection does); once empty,
    accept. `connections`: how many connections senders opened.
    `stored`: (type, identifier value) → resource; `creates`: how many times each key was
    created (a correct sender never creates one twice); `received`: every Bundle."""

    def __init__(self, *, timeout_sleep: float = 2.0, port: int = 0) -> None:
        self.commands: list[str] = []
        self.stored: dict[tuple[str, str], dict[str, Any]] = {}
        self.creates: Counter[tuple[str, str]] = Counter()
        self.received: list[dict[str, Any]] = []
        self.tokens: list[str] = []
        self.connections = 0
        self.timeout_sleep = timeout_sleep
        self.lock = threading.Lock()
        double = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.1: a sender's connection is kept between Bundles, as a partner's
            # server keeps it (every answer carries its Content-Length).
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with double.lock:
                    double.connections += 1

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                bundle = json.loads(self.rfile.read(length))
                with double.lock:
                    command = double.commands.pop(0) if double.commands else "accept"
                    double.received.append(bundle)
                    double.tokens.append(self.headers.get("Authorization", ""))
                if command == "drop":
                    self.close_connection = True  # closed without a word
                    return None
                if command == "timeout":
                    time.sleep(double.timeout_sleep)
                    return self._send(504, {"resourceType": "OperationOutcome", "issue": []})
                if command == "error500":
                    return self._send(500, {"resourceType": "OperationOutcome", "issue": []})
                if command.startswith("reject"):
                    index = command.partition(":")[2]
                    issue: dict[str, Any] = {
                        "severity": "error",
                        "code": "invalid",
                        "diagnostics": "Mã lô vắc xin không có trong danh mục",
                    }
                    if index:
                        issue["expression"] = [f"Bundle.entry[{index}].resource"]
                    return self._send(422, {"resourceType": "OperationOutcome", "issue": [issue]})
                responses = []
                with double.lock:
                    for entry in bundle.get("entry", []):
                        rtype, _sep, query = entry["request"]["url"].partition("?identifier=")
                        key = (rtype, query.partition("|")[2])
                        status = "200 OK" if key in double.stored else "201 Created"
                        if key not in double.stored:
                            double.creates[key] += 1
                        double.stored[key] = entry["resource"]
                        responses.append({"response": {"status": status}})
                self._send(
                    200,
                    {"resourceType": "Bundle", "type": "transaction-response", "entry": responses},
                )

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/fhir+json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (its timeout)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/fhir"

    def start(self) -> NationalDouble:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def keys(self, rtype: str) -> set[str]:
        return {key for (kind, key) in self.stored if kind == rtype}
