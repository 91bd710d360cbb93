"""Fetching a user's URL on the host (Import Data's `url` source) against real HTTP and HTTPS
servers on this machine: what is downloaded, what is refused, and that every refused or
unreachable address gives the same message.

The servers listen on loopback addresses, which the fetch refuses unless an allow-list
lets them in: tests that need a download allow 127.0.0.1 only, and use other loopback
addresses (127.0.0.2, ::1) as the "internal" addresses a URL must not reach.
"""
from __future__ import annotations

import gzip
import http.server
import ipaddress
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from designer.engine import url_fetch as fetching
from designer.engine.url_fetch import (
    CODE_HTTP_STATUS, CODE_INVALID_URL, CODE_TIMEOUT, CODE_TOO_LARGE, CODE_TOO_MANY_REDIRECTS, CODE_UNREACHABLE,
    UrlFetchError, address_allowed, url_fetch,
)

LOOPBACK_1 = [ipaddress.ip_network("127.0.0.1/32")]
CSV = b"x,y\n1,2\n3,4\n"


@dataclass
class Server:
    host: str
    port: int
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, Host header)

    def url(self, path: str = "/", host: str | None = None) -> str:
        name = host or (f"[{self.host}]" if ":" in self.host else self.host)
        return f"{self.scheme}://{name}:{self.port}{path}"

    scheme: str = "http"


def _handler(server: Server, redirect_to: dict[str, str]) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None, length: bool = True) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if length:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            server.requests.append((self.path, self.headers.get("Host", "")))
            if self.path in redirect_to:
                self._send(302, b"", {"Location": redirect_to[self.path]})
            elif self.path == "/data.csv":
                self._send(200, CSV, {"Content-Type": "text/csv"})
            elif self.path == "/loop":
                self._send(302, b"", {"Location": "/loop"})
            elif self.path == "/declared-large":
                self._send(200, b"", {"Content-Length": str(10 << 20)}, length=False)
            elif self.path == "/unannounced-large":
                # No length: the body's end is the connection's end.
                self.close_connection = True
                self._send(200, b"z" * (2 << 20), length=False)
            elif self.path == "/gzip-bomb":
                self._send(200, gzip.compress(b"\0" * (20 << 20)), {"Content-Encoding": "gzip"})
            elif self.path == "/gzip-csv":
                self._send(200, gzip.compress(CSV), {"Content-Encoding": "gzip"})
            elif self.path == "/stall":
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                self.wfile.write(b"x,y\n")
                self.wfile.flush()
                time.sleep(5)
            else:
                self._send(404, b"no such file")

    return Handler


@pytest.fixture
def serve() -> Iterator:
    """Starts HTTP(S) servers on the given addresses, stopped at the end of the test."""
    running: list[http.server.ThreadingHTTPServer] = []

    def start(host: str = "127.0.0.1", redirect_to: dict[str, str] | None = None,
              tls: ssl.SSLContext | None = None) -> Server:
        server = Server(host=host, port=0, scheme="https" if tls else "http")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        httpd_class = type("Httpd", (http.server.ThreadingHTTPServer,), {"address_family": family})
        httpd = httpd_class((host, 0), _handler(server, redirect_to or {}))
        httpd.daemon_threads = True
        if tls is not None:
            httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
        server.port = httpd.server_address[1]
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        running.append(httpd)
        return server

    yield start
    for httpd in running:
        httpd.shutdown()
        httpd.server_close()


def _closed_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _refused(url: str, tmp_path: Path, **options: object) -> UrlFetchError:
    with pytest.raises(UrlFetchError) as caught:
        url_fetch(url, tmp_path / "download", max_bytes=1 << 20, **options)  # type: ignore[arg-type]
    assert not (tmp_path / "download").exists(), "a failed download leaves no file"
    return caught.value


def test_a_file_from_an_allowed_server_is_downloaded(serve, tmp_path):
    server = serve()
    result = url_fetch(server.url("/data.csv"), tmp_path / "data.csv", max_bytes=1 << 20, allowed_networks=LOOPBACK_1)
    assert (tmp_path / "data.csv").read_bytes() == CSV
    assert (result.size, result.content_type, result.url) == (len(CSV), "text/csv", server.url("/data.csv"))


def test_compressed_content_is_decoded(serve, tmp_path):
    server = serve()
    url_fetch(server.url("/gzip-csv"), tmp_path / "data.csv", max_bytes=1 << 20, allowed_networks=LOOPBACK_1)
    assert (tmp_path / "data.csv").read_bytes() == CSV


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "224.0.0.1", "240.0.0.1", "255.255.255.255", "192.0.2.1",
    "::1", "::", "fe80::1", "fc00::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::1",
    "64:ff9b::a00:1", "2001:db8::1",
])
def test_internal_and_special_addresses_are_refused(address):
    assert not address_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "::ffff:1.1.1.1"])
def test_public_addresses_are_allowed(address):
    assert address_allowed(ipaddress.ip_address(address))


def test_an_allow_list_lets_a_network_in_and_no_more():
    allowed = [ipaddress.ip_network("10.20.0.0/16")]
    assert address_allowed(ipaddress.ip_address("10.20.3.4"), allowed)
    assert address_allowed(ipaddress.ip_address("::ffff:10.20.3.4"), allowed)
    assert not address_allowed(ipaddress.ip_address("10.21.0.1"), allowed)


def test_loopback_is_refused_before_any_connection(serve, tmp_path):
    server = serve()
    error = _refused(server.url("/data.csv"), tmp_path)
    assert error.code == CODE_UNREACHABLE
    assert server.requests == []


def test_a_name_is_checked_by_the_addresses_it_resolves_to(serve, tmp_path):
    server = serve()
    error = _refused(server.url("/data.csv", host="localhost"), tmp_path)
    assert error.code == CODE_UNREACHABLE
    assert server.requests == []


@pytest.mark.parametrize("host", ["[::1]", "[::ffff:127.0.0.1]", "0177.0.0.1", "2130706433", "127.1"])
def test_loopback_spelled_otherwise_is_refused(serve, tmp_path, host):
    server = serve("::1" if host == "[::1]" else "127.0.0.1")
    error = _refused(f"http://{host}:{server.port}/data.csv", tmp_path)
    assert error.code == CODE_UNREACHABLE
    assert server.requests == []


def test_every_unusable_address_gets_the_same_message(serve, tmp_path):
    """A refused address, a closed port, a name that does not resolve, a TLS server that
    fails verification: one message, so errors say nothing of what listens where."""
    open_server = serve("127.0.0.2")
    tls_server = serve(tls=_tls_context(tmp_path))
    attempts = {
        "refused address": (open_server.url("/data.csv"), {}),
        "closed port": (f"http://127.0.0.1:{_closed_port()}/data.csv", {"allowed_networks": LOOPBACK_1}),
        "unknown name": ("http://no-such-host.invalid/data.csv", {}),
        "bad certificate": (tls_server.url("/data.csv"), {"allowed_networks": LOOPBACK_1}),
    }
    messages = {}
    for reason, (url, options) in attempts.items():
        error = _refused(url, tmp_path, **options)
        assert error.code == CODE_UNREACHABLE, reason
        messages[reason] = error.message.replace(url, "URL")
    assert len(set(messages.values())) == 1, messages
    assert open_server.requests == []


def test_a_redirect_is_checked_like_the_first_address(serve, tmp_path):
    internal = serve("127.0.0.2")
    public = serve(redirect_to={"/moved": internal.url("/data.csv")})
    error = _refused(public.url("/moved"), tmp_path, allowed_networks=LOOPBACK_1)
    assert error.code == CODE_UNREACHABLE
    assert [path for path, _ in public.requests] == ["/moved"]
    assert internal.requests == []


def test_an_allowed_redirect_is_followed(serve, tmp_path):
    target = serve()
    first = serve(redirect_to={"/moved": target.url("/data.csv")})
    result = url_fetch(first.url("/moved"), tmp_path / "data.csv", max_bytes=1 << 20, allowed_networks=LOOPBACK_1)
    assert result.url == target.url("/data.csv")
    assert (tmp_path / "data.csv").read_bytes() == CSV


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://example.org/data.csv", "gopher://127.0.0.1:6379/_"])
def test_redirects_go_only_to_http_or_https(serve, tmp_path, location):
    server = serve(redirect_to={"/moved": location})
    error = _refused(server.url("/moved"), tmp_path, allowed_networks=LOOPBACK_1)
    assert error.code == CODE_INVALID_URL
    assert location in error.message


def test_redirects_are_bounded(serve, tmp_path):
    server = serve()
    error = _refused(server.url("/loop"), tmp_path, allowed_networks=LOOPBACK_1, max_redirects=3)
    assert error.code == CODE_TOO_MANY_REDIRECTS
    assert len(server.requests) == 4


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x.csv", "http://", "not a url", "//host/x"])
def test_only_http_and_https_urls_are_fetched(tmp_path, url):
    assert _refused(url, tmp_path).code == CODE_INVALID_URL


def test_credentials_in_a_url_are_refused(serve, tmp_path):
    server = serve()
    error = _refused(f"http://user:secret@127.0.0.1:{server.port}/data.csv", tmp_path, allowed_networks=LOOPBACK_1)
    assert error.code == CODE_INVALID_URL
    assert server.requests == []


@pytest.mark.parametrize("path", ["/declared-large", "/unannounced-large", "/gzip-bomb"])
def test_a_file_over_the_size_limit_is_refused(serve, tmp_path, path):
    server = serve()
    error = _refused(server.url(path), tmp_path, allowed_networks=LOOPBACK_1)
    assert error.code == CODE_TOO_LARGE
    assert "1 MiB" in error.message


def test_an_error_status_is_reported(serve, tmp_path):
    server = serve()
    error = _refused(server.url("/missing.csv"), tmp_path, allowed_networks=LOOPBACK_1)
    assert error.code == CODE_HTTP_STATUS
    assert "404" in error.message


def test_a_server_that_stops_sending_is_given_up(serve, tmp_path):
    server = serve()
    error = _refused(server.url("/stall"), tmp_path, allowed_networks=LOOPBACK_1, timeout_s=1)
    assert error.code == CODE_TIMEOUT


def test_the_connection_goes_to_the_checked_address(serve, tmp_path, monkeypatch):
    """DNS rebinding: a name that answers a public (here: allowed) address when checked and
    an internal one a moment later. A DNS server that changes its answers is out of reach
    here, so getaddrinfo answers as one would for that name; addresses pass through."""
    checked = serve("127.0.0.1")
    internal = serve("127.0.0.2")
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1", "127.0.0.2", "127.0.0.2"])

    def rebinding(host, port, *args, **kwargs):
        if host == "rebind.test":
            return real(next(answers), port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(fetching.socket, "getaddrinfo", rebinding)
    url_fetch(checked.url("/data.csv", host="rebind.test"), tmp_path / "data.csv", max_bytes=1 << 20,
              allowed_networks=LOOPBACK_1)
    assert checked.requests == [("/data.csv", f"rebind.test:{checked.port}")]
    assert internal.requests == []


def _tls_context(tmp_path: Path) -> ssl.SSLContext:
    """A server context with a self-signed certificate for `localhost` (its file: cert.pem)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    if not cert.exists():
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost"],
            check=True, capture_output=True,
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def test_https_verifies_the_name_while_connecting_to_the_checked_address(serve, tmp_path):
    server = serve(tls=_tls_context(tmp_path))
    ca = str(tmp_path / "cert.pem")
    url_fetch(server.url("/data.csv", host="localhost"), tmp_path / "data.csv", max_bytes=1 << 20,
              allowed_networks=[ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")], ca_certs=ca)
    assert (tmp_path / "data.csv").read_bytes() == CSV
    # The certificate names localhost, not 127.0.0.1: refused like any unusable address.
    error = _refused(server.url("/data.csv"), tmp_path, allowed_networks=LOOPBACK_1, ca_certs=ca)
    assert error.code == CODE_UNREACHABLE
