"""The URL probe keeps to the address family it is given (on a loopback server, never an AWS endpoint)."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator

import pytest

from ops.probe import fetch


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def ipv4_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_answers_over_ipv4_with_any_http_status(ipv4_server: int) -> None:
    assert fetch(f"http://localhost:{ipv4_server}/", socket.AF_INET) == "HTTP 200"
    assert fetch(f"http://localhost:{ipv4_server}/missing", socket.AF_INET) == "HTTP 404"


def test_does_not_fall_back_to_ipv4_when_asked_for_ipv6(ipv4_server: int) -> None:
    # The server listens on 127.0.0.1 only: over IPv6, localhost is ::1 (refused) or has no address.
    with pytest.raises(OSError):
        fetch(f"http://localhost:{ipv4_server}/", socket.AF_INET6)
