"""An .ics feed (an http(s)/webcal URL) or, for an operator's import, a local .ics file,
as a calendar source.

The feed is read whole, as one snapshot. Each UID in it is one resource (its VEVENTs and
the VTIMEZONEs they name), so it syncs exactly like a CalDAV calendar: a UID whose
content changed is read again, and a UID missing from a new snapshot is deleted.

A feed is fetched only from where the destination policy allows, checked again on every
redirect before it is followed, and every connection goes to an address its own check
resolved and allowed (no second lookup to rebind; decision 0020). Local files are read
only when the feed says so (`local_file=True`): a member's calendar never is one.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import http.client
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from commsintel.ingest.adapters.calendar_source import (
    CalendarAuthFailed,
    CalendarChanges,
    CalendarCollection,
    CalendarCursor,
    CalendarServerError,
    CalendarUnavailable,
    FetchedResource,
    calendar_scrub,
    shown_url,
)
from commsintel.ingest.adapters.destinations import PUBLIC_ONLY, check_url, connect_checked
from commsintel.ingest.domain.calendar import MAX_FEED_BYTES, feed_resources
from commsintel.ingest.domain.destinations import DestinationPolicy, DestinationRefused


@dataclass(frozen=True)
class IcsFeed:
    location: str  # an http://, https:// or webcal:// URL, or a file path (local_file)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    destinations: DestinationPolicy = PUBLIC_ONLY
    local_file: bool = False  # an operator's import of a file on this machine


@dataclass(frozen=True, slots=True)
class _Snapshot:
    digest: str
    resources: dict[str, bytes]


class IcsSource:
    """One calendar. `calendars()` reads the feed; `changes()` and `read()` use what
    that read (reading it themselves if nothing has been read yet)."""

    def __init__(self, feed: IcsFeed) -> None:
        self._feed = feed
        location = feed.location.strip()
        if location.lower().startswith("webcal://"):
            location = "https://" + location[len("webcal://") :]
        self._location = location
        self._is_url = not feed.local_file
        self._shown = shown_url(location) if self._is_url else location
        self._scrub = calendar_scrub(location, feed.username, feed.password)
        self._snapshot: _Snapshot | None = None

    @property
    def calendar(self) -> CalendarCollection:
        # The location may hold a secret (private feed URLs do): only its digest is kept.
        digest = hashlib.sha256(self._location.encode()).hexdigest()[:32]
        if self._is_url:
            parts = urlsplit(self._shown)
            name = parts.hostname or self._shown
        else:
            name = PurePosixPath(self._location).stem or self._location
        return CalendarCollection(calendar_id=f"ics:{digest}", name=name)

    async def calendars(self) -> list[CalendarCollection]:
        self._snapshot = await self._read_snapshot()
        return [self.calendar]

    async def changes(
        self,
        calendar: CalendarCollection,
        cursor: CalendarCursor | None,
        known_etags: Mapping[str, str],
    ) -> CalendarChanges:
        snapshot = self._snapshot or await self._read_snapshot()
        if cursor is not None and cursor.ctag == snapshot.digest:
            return CalendarChanges(cursor=cursor)
        fetched = [
            FetchedResource(href=uid, etag=_etag(raw), ics=raw)
            for uid, raw in snapshot.resources.items()
        ]
        return CalendarChanges(
            changed=[f for f in fetched if known_etags.get(f.href) != f.etag],
            deleted=sorted(href for href in known_etags if href not in snapshot.resources),
            cursor=CalendarCursor(ctag=snapshot.digest),
        )

    async def read(
        self, calendar: CalendarCollection, hrefs: Sequence[str]
    ) -> list[FetchedResource]:
        snapshot = self._snapshot or await self._read_snapshot()
        return [
            FetchedResource(href=href, etag=_etag(raw), ics=raw)
            for href in hrefs
            if (raw := snapshot.resources.get(href)) is not None
        ]

    async def _read_snapshot(self) -> _Snapshot:
        raw = await asyncio.to_thread(self._fetch if self._is_url else self._read_file)
        # Split in a thread too: a big feed is seconds of parsing. A feed that is not
        # iCalendar raises MalformedCalendar, and the caller changes nothing.
        resources = await asyncio.to_thread(feed_resources, raw)
        return _Snapshot(hashlib.sha256(raw).hexdigest(), resources)

    def _read_file(self) -> bytes:
        path = Path(self._location).expanduser()
        try:
            with path.open("rb") as file:
                raw = file.read(MAX_FEED_BYTES + 1)
        except FileNotFoundError:
            raise CalendarServerError(f"no calendar file at {self._shown}") from None
        except OSError as failed:
            raise CalendarUnavailable(
                f"cannot read the calendar file {self._shown}: {failed.strerror or failed}"
            ) from None
        return raw

    def _fetch(self) -> bytes:
        try:
            parts = urlsplit(self._location)
            username = self._feed.username or unquote(parts.username or "") or None
            password = self._feed.password or unquote(parts.password or "") or None
            address = _without_userinfo(self._location)
        except ValueError:
            raise CalendarServerError("the calendar URL is not a valid URL") from None
        request = urllib.request.Request(address, headers={"Accept": "text/calendar, */*;q=0.5"})
        if username:
            token = base64.b64encode(f"{username}:{password or ''}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        policy = self._feed.destinations
        opener = urllib.request.build_opener(
            _CheckedRedirects(policy), _PinnedHTTPHandler(policy), _PinnedHTTPSHandler(policy)
        )
        try:
            check_url(policy, address)
            with opener.open(request, timeout=self._feed.timeout) as response:
                return response.read(MAX_FEED_BYTES + 1)
        except DestinationRefused as refused:
            raise CalendarUnavailable(
                f"not fetching the calendar feed at {self._shown}: {refused}"
            ) from None
        except urllib.error.HTTPError as failed:
            if failed.code in (401, 403):
                raise CalendarAuthFailed(
                    f"the calendar feed at {self._shown} refused access (HTTP {failed.code})"
                ) from None
            raise CalendarServerError(
                f"the calendar feed at {self._shown} answered HTTP {failed.code}"
            ) from None
        except (urllib.error.URLError, OSError) as failed:
            reason = self._scrub(str(getattr(failed, "reason", None) or failed))
            raise CalendarUnavailable(
                f"cannot reach the calendar feed at {self._shown}: {reason}"
            ) from None


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to where the policy allows, checked before it is sent;
    the credentials go only to the feed's own host."""

    def __init__(self, policy: DestinationPolicy) -> None:
        self._policy = policy

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[override]
        check_url(self._policy, newurl)
        follow = super().redirect_request(req, fp, code, msg, headers, newurl)
        if follow is not None and urlsplit(newurl).netloc != urlsplit(req.full_url).netloc:
            follow.remove_header("Authorization")
        return follow


class _PinnedConnection(http.client.HTTPConnection):
    """Opens its socket to an address the policy allowed, from the same lookup that was
    checked (connect_checked). The Host header stays the name given."""

    def __init__(self, host: str, *args, policy: DestinationPolicy, **kwargs) -> None:
        super().__init__(host, *args, **kwargs)
        self._policy = policy
        self._create_connection = self._connect_checked

    def _connect_checked(
        self,
        address: tuple[str, int],
        timeout: float | None = None,
        source_address: tuple[str, int] | None = None,
    ) -> socket.socket:
        host, port = address
        return connect_checked(self._policy, host, port, timeout, source_address)


class _PinnedTLSConnection(_PinnedConnection, http.client.HTTPSConnection):
    """The same, for https: HTTPSConnection wraps that socket with SNI and the
    certificate checked against the host name, not the address."""


class _PinnedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, policy: DestinationPolicy) -> None:
        super().__init__()
        self._policy = policy

    def http_open(self, req):  # type: ignore[override]
        return self.do_open(partial(_PinnedConnection, policy=self._policy), req)


class _PinnedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, policy: DestinationPolicy) -> None:
        super().__init__()
        self._policy = policy

    def https_open(self, req):  # type: ignore[override]
        connection = partial(_PinnedTLSConnection, policy=self._policy)
        return self.do_open(connection, req, context=self._context)


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def _etag(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()
