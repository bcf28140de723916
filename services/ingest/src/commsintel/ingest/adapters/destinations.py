"""The destination policy applied to real connections: resolve, check every address,
then connect to a checked address (so a name cannot resolve to a public address for the
check and to a private one for the connection).

`connect_checked` blocks (for clients that still run in a thread of their own);
`open_checked` is the same for the event loop: an address literal costs no lookup, a
name is looked up in a small pool of this module's own (the system resolver has no
asyncio interface), and the connection itself is made on the loop (decision 0026).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
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


# Lookups take milliseconds and never wait on a mailbox: a few threads of their own keep
# them from queuing behind anything else that runs in a thread.
_LOOKUPS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="commsintel-dns")


async def checked_addresses_async(policy: DestinationPolicy, host: str, port: int) -> list[str]:
    """`checked_addresses` from the event loop, without a thread for an address."""
    if is_address(host):
        addresses = resolve(host, port)  # a literal: getaddrinfo answers without a lookup
    else:
        loop = asyncio.get_running_loop()
        addresses = await loop.run_in_executor(_LOOKUPS, resolve, host, port)
    policy.check(host, port, addresses)
    return addresses


async def open_checked(
    policy: DestinationPolicy, host: str, port: int, timeout: float
) -> socket.socket:
    """Like `connect_checked`, on the event loop: a connected non-blocking socket to a
    checked address, for asyncio's create_connection(sock=...) and the clients built on
    it (TLS goes on top with server_hostname=host, so the certificate is checked against
    the name, not the address)."""
    loop = asyncio.get_running_loop()
    failure: OSError | None = None
    async with asyncio.timeout(timeout):
        for address in await checked_addresses_async(policy, host, port):
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                await loop.sock_connect(sock, (address, port))
            except OSError as error:
                sock.close()
                failure = error
                continue
            except BaseException:
                sock.close()
                raise
            return sock
    raise failure or OSError(f"no address for {host}")


_HOST_NAME: list[str] = []


async def this_host_name() -> str:
    """This machine's fully qualified name, for SMTP's EHLO (looked up once)."""
    if not _HOST_NAME:
        loop = asyncio.get_running_loop()
        _HOST_NAME.append(await loop.run_in_executor(_LOOKUPS, socket.getfqdn))
    return _HOST_NAME[0]


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


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


async def check_url_async(policy: DestinationPolicy, url: str) -> list[str]:
    """`check_url` from the event loop."""
    host, port = http_destination(url)
    return await checked_addresses_async(policy, host, port)


async def check_before_saving(policy: DestinationPolicy, host: str, port: int) -> None:
    """The check a member's request gets before anything is stored. A name that does not
    resolve (yet) passes: every connection checks again, and it fails as unreachable."""
    if policy.allows_host(host, port):
        return
    try:
        await checked_addresses_async(policy, host, port)
    except (socket.gaierror, UnicodeError):
        return


@functools.cache
def verifying_tls_context() -> ssl.SSLContext:
    """One certificate-verifying context for every outbound TLS session: loading the
    system's CA certificates costs tens of milliseconds of CPU, too much to pay at each
    of thousands of logins."""
    return ssl.create_default_context()
