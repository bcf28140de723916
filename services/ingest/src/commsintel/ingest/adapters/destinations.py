"""The destination policy applied to real connections: resolve, check every address,
then connect to a checked address (so a name cannot resolve to a public address for the
check and to a private one for the connection).

Blocking functions, for the worker threads the IMAP, SMTP and HTTP clients run in.
"""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

from commsintel.ingest.domain.destinations import DestinationPolicy, DestinationRefused

# Strict unless an operator says otherwise: no loopback, private or link-local address.
PUBLIC_ONLY = DestinationPolicy()


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to now (the lookup every check makes)."""
    found = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def checked_addresses(policy: DestinationPolicy, host: str, port: int) -> list[str]:
    """The addresses of `host`, all of them allowed (else DestinationRefused);
    socket.gaierror when the name does not resolve."""
    addresses = resolve(host, port)
    policy.check(host, port, addresses)
    return addresses


def connect_checked(
    policy: DestinationPolicy,
    host: str,
    port: int,
    timeout: float | None,
    source_address: tuple[str, int] | None = None,
) -> socket.socket:
    """Like socket.create_connection((host, port)), to checked addresses only."""
    failure: OSError | None = None
    for address in checked_addresses(policy, host, port):
        try:
            return socket.create_connection((address, port), timeout, source_address)
        except OSError as error:
            failure = error
    raise failure or OSError(f"no address for {host}")


def http_destination(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) request target, or DestinationRefused for another
    scheme."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise DestinationRefused("only http(s) URLs are fetched")
    return parts.hostname, parts.port or (80 if scheme == "http" else 443)


def check_url(policy: DestinationPolicy, url: str) -> list[str]:
    """An http(s) request target (a feed, a CalDAV request, a redirect): its host's
    checked addresses, DestinationRefused for another scheme or a refused address."""
    host, port = http_destination(url)
    return checked_addresses(policy, host, port)


async def check_before_saving(policy: DestinationPolicy, host: str, port: int) -> None:
    """The check a member's request gets before anything is stored. A name that does not
    resolve (yet) passes: every connection checks again, and it fails as unreachable."""
    if policy.allows_host(host, port):
        return
    try:
        await asyncio.to_thread(checked_addresses, policy, host, port)
    except (socket.gaierror, UnicodeError):
        return
