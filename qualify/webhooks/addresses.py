"""Where webhooks may go: public addresses only, unless WEBHOOKS_ALLOW_PRIVATE_ADDRESSES is on.

A URL is checked when its endpoint is saved and again before every attempt, on every address its
host resolves to; the attempt then connects to one of those checked addresses (not to a fresh
lookup), so a DNS answer that changes between check and connect (rebinding) cannot reach an
internal service.
"""

from __future__ import annotations

import ipaddress
import socket
from base64 import b64encode
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from django.conf import settings
from django.utils.encoding import iri_to_uri


class UnsafeURL(Exception):
    pass


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


# IPv6 forms of an IPv4 address that ipaddress calls global: NAT64 (through a gateway,
# 64:ff9b::a9fe:a9fe is 169.254.169.254) and 6to4 carry one to check instead; the local-use NAT64
# prefix, the deprecated IPv4-compatible form and site-local addresses are nobody's public address.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NOT_PUBLIC_V6 = (ipaddress.ip_network("64:ff9b:1::/48"), ipaddress.ip_network("::/96"), ipaddress.ip_network("fec0::/10"))


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if any(address in net for net in NOT_PUBLIC_V6):
            return False
        if address in NAT64:
            address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        else:
            address = address.ipv4_mapped or address.sixtofour or address
    return address.is_global and not address.is_multicast


def masked(url: str) -> str:
    """`url` fit to show: the password in its user part (or a bare user, often a token) as ****.
    The stored URL keeps them; only what lists, the API, notifications and logs show is masked."""
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at:
        return url
    user, colon, _ = userinfo.partition(":")
    return urlunsplit(parts._replace(netloc=f"{user}:****@{hostport}" if colon else f"****@{hostport}"))


def basic_auth(url: str) -> str | None:
    """The Authorization header for a URL's user and password (https://user:pass@host/), which
    receivers behind Basic auth expect, and http.client would not send by itself."""
    parts = urlsplit(url)
    if parts.username is None:
        return None
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return "Basic " + b64encode(pair.encode()).decode()


def check_url(url: str) -> Target:
    """Resolve `url`'s host and return where to connect, or raise UnsafeURL. Costs one DNS lookup."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL("Use an http:// or https:// URL with a host name.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeURL("The port is not a number between 0 and 65535.")
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise UnsafeURL(f"Cannot resolve {parts.hostname}: {e}")
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
        for a in addresses:
            if not _public(ipaddress.ip_address(a.split("%")[0])):
                raise UnsafeURL(f"{parts.hostname} resolves to {a}, a private, loopback or link-local address.")
    # http.client sends the request line as ASCII: a URL path like /hooks/café (which URLField
    # accepts) raised UnicodeEncodeError out of the worker at every attempt. Percent-encoded, as a browser would.
    path = iri_to_uri((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
    return Target(parts.scheme, parts.hostname, port, path, addresses)
