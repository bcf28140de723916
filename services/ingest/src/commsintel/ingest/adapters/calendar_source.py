"""What calendar sync needs from a calendar server or feed (CalDAV, an .ics file or URL):
its calendars, and what changed in one of them since a cursor."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from commsintel.ingest.domain.secret_forms import SecretScrub, redacted_url, url_secrets


class CalendarSourceError(Exception):
    """The server refused or failed. Messages are for people and never hold a password."""

    kind = "server_error"  # as SyncProgressed.error_kind


class CalendarAuthFailed(CalendarSourceError):
    """Wrong username or password: the member has to reconnect the calendar."""

    kind = "auth_failed"


class CalendarUnavailable(CalendarSourceError):
    """The server cannot be reached or timed out: retry later."""

    kind = "unreachable"


class CalendarServerError(CalendarSourceError):
    """The server answered, but not with a calendar we can read (wrong URL, 5xx)."""

    kind = "server_error"


@dataclass(frozen=True, slots=True)
class CalendarCollection:
    calendar_id: str  # stable across syncs: a CalDAV collection path, a feed's digest
    name: str


@dataclass(frozen=True, slots=True)
class CalendarCursor:
    """Where the last sync of one calendar stopped: the server's sync-token (RFC 6578)
    where it offers one, and its ctag (or a digest of a feed) in any case."""

    sync_token: str = ""
    ctag: str = ""


@dataclass(frozen=True, slots=True)
class FetchedResource:
    href: str  # the resource's name in its calendar (a path, or a UID in a feed)
    etag: str
    ics: bytes


@dataclass(frozen=True, slots=True)
class CalendarChanges:
    changed: Sequence[FetchedResource] = ()
    deleted: Sequence[str] = ()
    cursor: CalendarCursor = field(default_factory=CalendarCursor)


class CalendarSource(Protocol):
    async def calendars(self) -> list[CalendarCollection]: ...

    async def changes(
        self,
        calendar: CalendarCollection,
        cursor: CalendarCursor | None,
        known_etags: Mapping[str, str],
    ) -> CalendarChanges:
        """Resources added or changed since `cursor`, and hrefs deleted since then.

        `known_etags` (href -> etag of what was last read) lets a source without
        incremental sync report only what differs from it.
        """
        ...

    async def read(
        self, calendar: CalendarCollection, hrefs: Sequence[str]
    ) -> list[FetchedResource]:
        """These resources as they are now (gone ones are left out)."""
        ...


T = TypeVar("T")

# The calendar adapters' own threads (decision 0026): the blocking CalDAV client, local
# files and the parsing of big feeds. Bounded, and apart from everything else, so a slow
# calendar server neither queues behind a mailbox nor holds up one.
CALENDAR_THREADS = 4
_CALENDAR_WORK = ThreadPoolExecutor(CALENDAR_THREADS, thread_name_prefix="commsintel-calendar")


async def in_calendar_thread(work: Callable[..., T], *args: object) -> T:
    return await asyncio.get_running_loop().run_in_executor(_CALENDAR_WORK, work, *args)


def shown_url(url: str) -> str:
    """The URL as it may be shown: no userinfo, no token, no query values."""
    return redacted_url(url)


def calendar_scrub(url: str, username: str | None, password: str | None) -> SecretScrub:
    """Cleans server replies of the password and of every secret part of the URL."""
    return SecretScrub.of((password, *url_secrets(url)), (username,))
