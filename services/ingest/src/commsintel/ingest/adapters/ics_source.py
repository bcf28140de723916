"""An .ics feed (an http(s)/webcal URL) or, for an operator's import, a local .ics file,
as a calendar source.

The feed is read whole, as one snapshot. Each UID in it is one resource (its VEVENTs and
the VTIMEZONEs they name), so it syncs exactly like a CalDAV calendar: a UID whose
content changed is read again, and a UID missing from a new snapshot is deleted.

A feed is fetched only from where the destination policy allows, checked again on every
redirect before it is followed, and every connection goes to an address its own check
resolved and allowed (no second lookup to rebind; decision 0020). Local files are read
only when the feed says so (`local_file=True`): a member's calendar never is one.

The fetch runs on the event loop (niquests' async session, decision 0026); reading a
local file and splitting a big feed run in the calendar adapters' own threads.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import niquests
from niquests.packages.urllib3.contrib.resolver._async.in_memory import InMemoryResolver

from commsintel.ingest.adapters.calendar_source import (
    CalendarAuthFailed,
    CalendarChanges,
    CalendarCollection,
    CalendarCursor,
    CalendarServerError,
    CalendarUnavailable,
    FetchedResource,
    calendar_scrub,
    in_calendar_thread,
    shown_url,
)
from commsintel.ingest.adapters.destinations import (
    PUBLIC_ONLY,
    checked_addresses_async,
    http_destination,
    is_address,
)
from commsintel.ingest.domain.calendar import MAX_FEED_BYTES, feed_resources
from commsintel.ingest.domain.destinations import DestinationPolicy, DestinationRefused

# As urllib followed them: at most ten, and only these.
_MAX_REDIRECTS = 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


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
        raw = await (self._fetch() if self._is_url else in_calendar_thread(self._read_file))
        # Split in a thread: a big feed is seconds of parsing. A feed that is not
        # iCalendar raises MalformedCalendar, and the caller changes nothing.
        resources = await in_calendar_thread(feed_resources, raw)
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

    async def _fetch(self) -> bytes:
        try:
            parts = urlsplit(self._location)
            username = self._feed.username or unquote(parts.username or "") or None
            password = self._feed.password or unquote(parts.password or "") or None
            address = _without_userinfo(self._location)
        except ValueError:
            raise CalendarServerError("the calendar URL is not a valid URL") from None
        headers = {"Accept": "text/calendar, */*;q=0.5"}
        if username:
            token = base64.b64encode(f"{username}:{password or ''}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        try:
            return await _PinnedFetch(self._feed.destinations, self._feed.timeout).get(
                address, headers
            )
        except DestinationRefused as refused:
            raise CalendarUnavailable(
                f"not fetching the calendar feed at {self._shown}: {refused}"
            ) from None
        except _HttpRefused as failed:
            if failed.status in (401, 403):
                raise CalendarAuthFailed(
                    f"the calendar feed at {self._shown} refused access (HTTP {failed.status})"
                ) from None
            raise CalendarServerError(
                f"the calendar feed at {self._shown} answered HTTP {failed.status}"
            ) from None
        except (OSError, ValueError) as failed:  # niquests' errors are OSErrors too
            reason = self._scrub(str(failed) or type(failed).__name__)
            raise CalendarUnavailable(
                f"cannot reach the calendar feed at {self._shown}: {reason}"
            ) from None


class _HttpRefused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _PinnedFetch:
    """GET with redirects followed here: each target is checked before it is asked,
    and the session resolves a name only to the addresses that check allowed (an
    in-memory table, no lookup of its own). The credentials go only to the feed's own
    host."""

    def __init__(self, policy: DestinationPolicy, timeout: float) -> None:
        self._policy = policy
        self._timeout = timeout
        self._pinned = InMemoryResolver()

    async def get(self, url: str, headers: dict[str, str]) -> bytes:
        async with niquests.AsyncSession(resolver=self._pinned) as session:
            for _hop in range(_MAX_REDIRECTS + 1):
                await self._check_and_pin(url)
                response: Any = await session.get(
                    url, headers=headers, timeout=self._timeout, allow_redirects=False, stream=True
                )
                try:
                    location = response.headers.get("Location")
                    if response.status_code in _REDIRECTS and location:
                        following = urljoin(url, location)
                        if urlsplit(following).netloc != urlsplit(url).netloc:
                            headers = {k: v for k, v in headers.items() if k != "Authorization"}
                        url = following
                        continue
                    if response.status_code >= 400:
                        raise _HttpRefused(response.status_code)
                    return await _read_at_most(response, MAX_FEED_BYTES + 1)
                finally:
                    await response.close()
        raise CalendarServerError("the calendar feed redirects too often")

    async def _check_and_pin(self, url: str) -> None:
        host, port = http_destination(url)
        addresses = await checked_addresses_async(self._policy, host, port)
        if not is_address(host):
            self._pinned.clear(host)
            for address in addresses:
                self._pinned.register(host, address)


async def _read_at_most(response: Any, limit: int) -> bytes:
    body = bytearray()
    async for chunk in await response.iter_content(64 * 1024):
        body.extend(chunk)
        if len(body) >= limit:
            break
    return bytes(body[:limit])


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def _etag(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()
