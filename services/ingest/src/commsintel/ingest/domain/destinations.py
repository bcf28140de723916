"""Where this server may connect on a member's behalf (IMAP, SMTP, CalDAV, .ics feeds).

A member names the hosts; the server connects. Left open, that lets any member reach
what only the server can: its own loopback services, the private network, the cloud
metadata address (server-side request forgery). So by default only public addresses
are used, checked on the addresses a name resolves to (every one of them) and on every
redirect. An operator with on-premises mail or calendar servers allows them by name
(`mail.internal`, `mail.internal:993`) or by network (`10.1.0.0/16`) (decision 0020).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

CALENDAR_URL_SCHEMES = ("http", "https", "webcal")


class DestinationRefused(Exception):
    """This server does not connect there. The message is for the member."""


@dataclass(frozen=True)
class DestinationPolicy:
    allowed_hosts: frozenset[str] = frozenset()  # "host" or "host:port", lower case
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, hosts: str | Iterable[str] = "", networks: str | Iterable[str] = ""):
        """From comma-separated settings; raises ValueError on a malformed network."""
        host_list = _items(hosts)
        network_list = _items(networks)
        return cls(
            frozenset(h.lower() for h in host_list),
            tuple(ipaddress.ip_network(n, strict=False) for n in network_list),
        )

    def allows_host(self, host: str, port: int) -> bool:
        """An operator-listed name (or name:port): trusted whatever it resolves to."""
        name = host.strip().lower().strip("[]").rstrip(".")
        return name in self.allowed_hosts or f"{name}:{port}" in self.allowed_hosts

    def check(self, host: str, port: int, addresses: Sequence[str]) -> None:
        """Raise DestinationRefused unless `host` is listed, or every address it resolved
        to is public or in an allowed network."""
        if self.allows_host(host, port):
            return
        for text in addresses:
            address = _address(text)
            if any(address in network for network in self.allowed_networks):
                continue
            what = _private_kind(address)
            if what:
                raise DestinationRefused(
                    f"{host} is {what} address; this server connects only to public "
                    "addresses unless its operator allows the host"
                )


def calendar_url_destination(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a calendar URL a member gave, or DestinationRefused when it
    is not an http(s)/webcal URL: local files are an operator's CLI import, never an API
    input, and the answer never depends on what exists on this server."""
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        raise DestinationRefused("the calendar URL is not a valid URL") from None
    if scheme not in CALENDAR_URL_SCHEMES or not host:
        raise DestinationRefused("the calendar URL must be an http(s) or webcal URL")
    if port is None:
        port = 80 if scheme == "http" else 443
    return scheme, host, port


def _address(text: str) -> IPAddress:
    address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _private_kind(address: IPAddress) -> str:
    """'' for a public address, else what it is ("a loopback", "a private", ...)."""
    if address.is_loopback:
        return "a loopback"
    if address.is_link_local:  # 169.254.169.254 (cloud metadata) is one
        return "a link-local"
    if address.is_unspecified:
        return "an unspecified"
    if address.is_multicast:
        return "a multicast"
    if address.is_private:  # RFC 1918, ULA (fc00::/7), and other special ranges
        return "a private"
    if not address.is_global:  # shared (100.64/10), reserved, documentation, ...
        return "a non-public"
    return ""


def _items(value: str | Iterable[str]) -> list[str]:
    texts = value.split(",") if isinstance(value, str) else list(value)
    return [t.strip() for t in texts if t.strip()]
