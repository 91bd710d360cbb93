"""Downloading a user's URL on the host, before the step that reads it starts.

Steps run with no network at all; Import Data's `url` source is fetched here instead, by
the host, into a file the step then reads. The URL is a user's, so the fetch must not
become a way into the server's own network (SSRF): every address a host name resolves
to is checked, the connection goes to that checked address (never resolved again, so a
DNS answer that changes in between cannot slip a private address in), and every
redirect is checked the same way.

Contract (for the executor)::

    result = url_fetch(url, destination, max_bytes=..., allowed_networks=...)

- `url`: an http:// or https:// URL as the user typed it;
- `destination`: the file to write (its folder must exist); on any error nothing is
  left there;
- returns a `FetchResult` (the final URL after redirects, the size, the content type);
- raises `UrlFetchError` for every failure a user can cause or see. Its `message` is
  user-facing (it names the URL and what went wrong) and its `code` is one of the
  `CODE_*` constants below. Whatever the reason an address cannot be used (a private,
  loopback, link-local… address, a name that does not resolve, a refused or timed-out
  connection, a TLS failure), the message is the same, so error messages cannot be used
  to scan ports or map the server's network. Any other exception is a bug.

Addresses refused unless an operator allows their network (`allowed_networks`): loopback,
private, link-local, shared (CGNAT), multicast, reserved and unspecified, in IPv4 and
IPv6, including IPv4 addresses carried inside IPv6 ones (IPv4-mapped, 6to4; NAT64's
prefix is reserved).
Proxy settings of the environment are not used: the host connects directly.
"""
from __future__ import annotations

import ipaddress
import os
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import urllib3
from urllib3.exceptions import HTTPError, LocationParseError, ReadTimeoutError
from urllib3.util import parse_url

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

CODE_INVALID_URL = "invalid_url"
CODE_UNREACHABLE = "url_unreachable"
CODE_HTTP_STATUS = "http_status"
CODE_TOO_LARGE = "download_too_large"
CODE_TOO_MANY_REDIRECTS = "too_many_redirects"
CODE_TIMEOUT = "download_timeout"
CODE_BROKEN = "download_failed"

DEFAULT_MAX_REDIRECTS = 5
DEFAULT_TIMEOUT_S = 60.0
_CHUNK_BYTES = 64 * 1024
_CONNECT_TIMEOUT_S = 15.0
# Per read from the socket; the whole download has its own deadline.
_READ_TIMEOUT_S = 30.0
_SCHEMES = ("http", "https")


class UrlFetchError(Exception):
    """A download that failed; `message` is for the user, `code` for programs."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class FetchResult:
    url: str  # where the content came from, after redirects
    size: int  # bytes written
    content_type: str | None


def address_allowed(address: IPAddress, allowed_networks: Sequence[IPNetwork] = ()) -> bool:
    """Whether a connection to `address` may be made: a public unicast address, or one inside
    a network the operator allowed."""
    if any(address in network for network in allowed_networks if network.version == address.version):
        return True
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # ::ffff:a.b.c.d reaches a.b.c.d
            return address_allowed(address.ipv4_mapped, allowed_networks)
        if address.sixtofour is not None and not address_allowed(address.sixtofour, allowed_networks):
            return False
    # is_global alone lets multicast and some reserved ranges through (Python 3.11).
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_private or address.is_loopback
        or address.is_link_local or address.is_unspecified
    )


def url_fetch(
    url: str,
    destination: Path,
    *,
    max_bytes: int,
    allowed_networks: Sequence[IPNetwork] = (),
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_redirects: int = DEFAULT_MAX_REDIRECTS,
    ca_certs: str | None = None,
) -> FetchResult:
    """Download `url` into the file `destination`, at most `max_bytes` of it (after any
    content decoding), following at most `max_redirects` redirects, all within
    `timeout_s` seconds. `ca_certs`: a CA bundle to trust instead of the system's.
    Raises UrlFetchError (see the module's docstring)."""
    deadline = time.monotonic() + timeout_s
    current = url
    try:
        for _ in range(max_redirects + 1):
            response, pool = _request(url, current, allowed_networks, deadline, ca_certs)
            try:
                if response.status in (301, 302, 303, 307, 308) and response.headers.get("Location"):
                    current = urljoin(current, response.headers["Location"])
                    continue
                if not 200 <= response.status < 300:
                    raise UrlFetchError(
                        f"could not download {url}: the server answered {response.status} {response.reason or ''}"
                        .rstrip(),
                        CODE_HTTP_STATUS,
                    )
                size = _save(url, response, destination, max_bytes, deadline)
                return FetchResult(url=current, size=size, content_type=response.headers.get("Content-Type"))
            finally:
                response.release_conn()
                pool.close()
    except BaseException:
        destination.unlink(missing_ok=True)
        raise
    raise UrlFetchError(
        f"could not download {url}: it redirects more than {max_redirects} times", CODE_TOO_MANY_REDIRECTS
    )


def _unreachable(url: str) -> UrlFetchError:
    # One message for every reason, on purpose: see the module's docstring.
    return UrlFetchError(
        f"could not download {url}: the address cannot be reached from this server, or is not allowed",
        CODE_UNREACHABLE,
    )


def _request(
    url: str, current: str, allowed_networks: Sequence[IPNetwork], deadline: float, ca_certs: str | None,
) -> tuple[urllib3.BaseHTTPResponse, urllib3.HTTPConnectionPool]:
    """GET `current` (the user's `url`, or where it redirected to) from a checked address of
    its host; redirects are not followed."""
    try:
        parts = parse_url(current)
    except LocationParseError:
        raise UrlFetchError(f"{current!r} is not a valid URL", CODE_INVALID_URL) from None
    if parts.scheme not in _SCHEMES or not parts.host:
        what = "the url" if current == url else f"{url} redirects to {current}, which"
        raise UrlFetchError(f"{what} must be an http:// or https:// address with a host name", CODE_INVALID_URL)
    if parts.auth:
        raise UrlFetchError("a url with a user name or password in it is not supported", CODE_INVALID_URL)
    host = parts.host.strip("[]")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(url, host, port, allowed_networks)
    host_header = parts.netloc or host
    headers = {"Host": host_header, "User-Agent": "Atelier", "Accept-Encoding": "gzip, deflate"}
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        timeout = urllib3.Timeout(connect=min(remaining, _CONNECT_TIMEOUT_S), read=min(remaining, _READ_TIMEOUT_S))
        pool: urllib3.HTTPConnectionPool
        if parts.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                str(address), port, timeout=timeout, retries=False, cert_reqs="CERT_REQUIRED", ca_certs=ca_certs,
                server_hostname=host, assert_hostname=host,
            )
        else:
            pool = urllib3.HTTPConnectionPool(str(address), port, timeout=timeout, retries=False)
        try:
            response = pool.urlopen(
                "GET", parts.request_uri, headers=headers, redirect=False, retries=False, preload_content=False,
                assert_same_host=False,
            )
        except HTTPError:
            pool.close()
            continue  # the next address of the host, if any
        return response, pool
    raise _unreachable(url)


def _resolve(url: str, host: str, port: int, allowed_networks: Sequence[IPNetwork]) -> list[IPAddress]:
    """Every address `host` resolves to, all of them allowed (a name that resolves to a
    refused address among public ones is refused: it could be rebinding)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise _unreachable(url) from None
    addresses: list[IPAddress] = []
    for info in infos:
        # An IPv6 address with a scope ("fe80::1%eth0") is link-local: refused below anyway.
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address_allowed(address, allowed_networks):
            raise _unreachable(url)
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise _unreachable(url)
    return addresses


def _save(url: str, response: urllib3.BaseHTTPResponse, destination: Path, max_bytes: int, deadline: float) -> int:
    declared = response.headers.get("Content-Length")
    too_large = UrlFetchError(f"the file at {url} is larger than {_size(max_bytes)}", CODE_TOO_LARGE)
    if declared and declared.isdigit() and int(declared) > max_bytes and not response.headers.get("Content-Encoding"):
        raise too_large
    written = 0
    try:
        with destination.open("wb") as out:
            # read1: one read from the socket at a time, so that the deadline is checked
            # between reads however slowly the server sends.
            while chunk := response.read1(_CHUNK_BYTES, decode_content=True):
                written += len(chunk)
                if written > max_bytes:
                    raise too_large
                out.write(chunk)
                if time.monotonic() > deadline:
                    raise UrlFetchError(f"the download of {url} took too long", CODE_TIMEOUT)
            out.flush()
            os.fsync(out.fileno())
    except ReadTimeoutError:
        raise UrlFetchError(f"the download of {url} took too long", CODE_TIMEOUT) from None
    except HTTPError as exc:
        # The server was reached and answered: what broke is no secret of the network.
        raise UrlFetchError(f"the download of {url} broke off: {type(exc).__name__}", CODE_BROKEN) from None
    return written


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n} bytes"
