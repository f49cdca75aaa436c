"""Fetch a deployed endpoint over IPv4 or over IPv6 only, to show that it is reachable on both."""

from __future__ import annotations

import http.client
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable

# (url, address family) -> a one-line outcome such as "HTTP 200"; raises OSError when unreachable.
Prober = Callable[[str, socket.AddressFamily], str]
TIMEOUT_SECONDS = 5.0


def _connect(host: str, port: int, family: socket.AddressFamily, timeout: float | None) -> socket.socket:
    """A socket to `host` over `family` only: no fallback to the other family, unlike create_connection."""
    last: OSError = OSError(f"{host} has no {'IPv6' if family == socket.AF_INET6 else 'IPv4'} address")
    for af, kind, proto, _, address in socket.getaddrinfo(host, port, family, socket.SOCK_STREAM):
        sock = socket.socket(af, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except OSError as error:
            sock.close()
            last = error
            continue
        return sock
    raise last


def _handlers(family: socket.AddressFamily) -> list[urllib.request.BaseHandler]:
    class Http(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = _connect(self.host, self.port, family, self.timeout)

    class Https(http.client.HTTPSConnection):
        def connect(self) -> None:
            sock = _connect(self.host, self.port, family, self.timeout)
            self.sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)

    class HttpHandler(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(Http, req)

    class HttpsHandler(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(Https, req)

    return [HttpHandler(), HttpsHandler()]


def fetch(url: str, family: socket.AddressFamily) -> str:
    """GET `url` over one address family with a short timeout; any HTTP answer counts as reachable."""
    opener = urllib.request.build_opener(*_handlers(family))
    try:
        with opener.open(url, timeout=TIMEOUT_SECONDS) as response:
            return f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except urllib.error.URLError as error:
        raise OSError(str(error.reason)) from None
