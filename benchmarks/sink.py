"""A stand-in Langfuse server on 127.0.0.1, run as a process of its own.

It accepts what the Langfuse SDK posts (OTLP/HTTP protobuf spans at
``/api/public/otel/v1/traces``, JSON scores at ``/api/public/scores``),
checks Basic auth, counts what arrived, and answers ``GET /stats`` with
the counts as JSON. ``--delay`` makes every post wait that many seconds
before the answer, like a stalled backend.

Run as ``python -m benchmarks.sink --public-key PK --secret-key SK``; the
first line printed is the server's base URL. It stops when its standard
input closes, so it never outlives the benchmark that started it.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TRACES_PATH = "/api/public/otel/v1/traces"
SCORES_PATH = "/api/public/scores"


class Counts:
    """What the server received, by kind."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.refused = 0
        self.spans = 0
        self.scores = 0
        self.bytes = 0
        self.stalled = 0

    def as_dict(self) -> dict[str, int]:
        with self.lock:
            return {
                "requests": self.requests,
                "refused": self.refused,
                "spans": self.spans,
                "scores": self.scores,
                "bytes": self.bytes,
                "stalled": self.stalled,
            }


def count_spans(body: bytes) -> int:
    """Return how many spans an OTLP/HTTP protobuf export request holds."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    return sum(
        len(scope.spans)
        for resource in request.resource_spans
        for scope in resource.scope_spans
    )


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the benchmark prints its own table."""

    def do_GET(self) -> None:
        if self.path == "/stats":
            self._reply(200, json.dumps(self.server.counts.as_dict()).encode())
        else:
            self._reply(404, b"{}")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        counts = self.server.counts
        if self.server.delay:
            with counts.lock:
                counts.stalled += 1
            time.sleep(self.server.delay)
        path = self.path.split("?", 1)[0]
        authorised = self.headers.get("Authorization") == self.server.expected
        spans = count_spans(body) if authorised and path == TRACES_PATH else 0
        scores = len(json.loads(body or b"[]")) if path == SCORES_PATH else 0
        with counts.lock:
            counts.requests += 1
            counts.bytes += len(body)
            counts.refused += not authorised
            counts.spans += spans
            counts.scores += scores if authorised else 0
        if not authorised:
            self._reply(401, b'{"message": "unauthorised"}')
        elif path == TRACES_PATH:
            self._reply(200, b"", "application/x-protobuf")
        else:
            self._reply(202 if path == SCORES_PATH else 200, b"{}")

    def _reply(
        self, status: int, payload: bytes, kind: str = "application/json"
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, delay: float, public_key: str, secret_key: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.delay = delay
        self.counts = Counts()
        token = base64.b64encode(f"{public_key}:{secret_key}".encode()).decode()
        self.expected = f"Basic {token}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that hung up (a stalled export times out)."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--public-key", required=True)
    parser.add_argument("--secret-key", required=True)
    args = parser.parse_args(argv)

    server = _Server(args.delay, args.public_key, args.secret_key)
    host, port = server.server_address[:2]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"http://{host}:{port}", flush=True)
    sys.stdin.read()  # until the benchmark closes our standard input
    server.shutdown()


if __name__ == "__main__":
    main()
