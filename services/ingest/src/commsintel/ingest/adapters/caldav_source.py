"""A CalDAV account as a calendar source, over the `caldav` library's blocking client:
every call runs in the calendar adapters' own bounded threads (`in_calendar_thread`,
decision 0026), never in the pool the rest of the service shares.

Incremental sync: the collection's sync-token (RFC 6578 sync-collection REPORT) where
the server offers one; otherwise, or when the server has forgotten the token, the
collection's ctag says whether anything changed at all, and a listing of every
resource's etag, compared with what was read last time, says what.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import niquests
from caldav.collection import Calendar
from caldav.davclient import DAVClient
from caldav.elements import dav
from caldav.elements.base import ValuedBaseElement
from caldav.lib import error
from niquests.packages.urllib3.contrib.resolver.in_memory import InMemoryResolver

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
    check_url,
    http_destination,
)
from commsintel.ingest.domain.destinations import DestinationPolicy, DestinationRefused

MULTIGET_BATCH = 100


class GetCTag(ValuedBaseElement):
    """CalendarServer's collection tag: changes whenever anything in the calendar does."""

    tag: ClassVar[str] = "{http://calendarserver.org/ns/}getctag"


@dataclass(frozen=True)
class CalDavAccount:
    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    destinations: DestinationPolicy = PUBLIC_ONLY
    # An OAuth2 access token (decision 0025): sent as `Authorization: Bearer`, instead of
    # the password.
    bearer_token: str | None = field(default=None, repr=False)


class CalDavSource:
    def __init__(self, account: CalDavAccount) -> None:
        parts = urlsplit(account.url)
        # Credentials written into the URL are credentials, not part of the address.
        self._username = account.username or (unquote(parts.username or "") or None)
        self._password = account.password or (unquote(parts.password or "") or None)
        self._auth_type: str | None = None
        if account.bearer_token:
            self._password, self._auth_type = account.bearer_token, "bearer"
        self._url = _without_userinfo(account.url)
        self._shown = shown_url(account.url)
        self._scrub = calendar_scrub(account.url, self._username, self._password)
        self._timeout = account.timeout
        self._destinations = account.destinations
        self._client: DAVClient | None = None

    async def calendars(self) -> list[CalendarCollection]:
        return await in_calendar_thread(self._calendars)

    async def changes(
        self,
        calendar: CalendarCollection,
        cursor: CalendarCursor | None,
        known_etags: Mapping[str, str],
    ) -> CalendarChanges:
        return await in_calendar_thread(self._changes, calendar, cursor, dict(known_etags))

    async def read(
        self, calendar: CalendarCollection, hrefs: Sequence[str]
    ) -> list[FetchedResource]:
        return await in_calendar_thread(self._read, calendar, list(hrefs))

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await in_calendar_thread(client.close)

    # --- blocking side ----------------------------------------------------------------

    def _dav(self) -> DAVClient:
        if self._client is None:
            self._client = DAVClient(
                url=self._url,
                username=self._username,
                password=self._password,
                auth_type=self._auth_type,
                timeout=int(self._timeout),
                enable_rfc6764=False,  # no discovery requests of its own
            )
            _check_every_request(self._client, self._destinations)
        return self._client

    def _calendars(self) -> list[CalendarCollection]:
        with self._errors():
            client = self._dav()
            try:
                found = client.principal().calendars()
            except (error.NotFoundError, error.PropfindError):
                # No principal to discover from: the URL names a calendar itself.
                found = [client.calendar(url=self._url)]
            return [
                CalendarCollection(
                    calendar_id=_path(str(c.url)),
                    name=str(c.props.get(dav.DisplayName.tag) or _path(str(c.url)).strip("/")),
                )
                for c in found
            ]

    def _changes(
        self,
        collection: CalendarCollection,
        cursor: CalendarCursor | None,
        known_etags: dict[str, str],
    ) -> CalendarChanges:
        with self._errors():
            calendar = self._calendar(collection)
            now = self._collection_tags(calendar)
            if cursor is not None and _unchanged(cursor, now):
                return CalendarChanges(cursor=cursor)
            if cursor is not None and cursor.sync_token and now.sync_token:
                changes = self._changes_by_sync_token(calendar, cursor.sync_token, now.ctag)
                if changes is not None:
                    return changes
            # First sync, no sync-token support, or a token the server has forgotten.
            listing = self._etags(calendar)
            changed = {
                href: etag for href, etag in listing.items() if known_etags.get(href) != etag
            }
            return CalendarChanges(
                changed=self._fetch(calendar, changed),
                deleted=sorted(href for href in known_etags if href not in listing),
                cursor=now,
            )

    def _changes_by_sync_token(
        self, calendar: Calendar, sync_token: str, ctag: str
    ) -> CalendarChanges | None:
        try:
            # The library types every call as sync-or-async; this client is the sync one.
            found: Any = calendar.get_objects_by_sync_token(
                sync_token, load_objects=False, disable_fallback=True
            )
        except error.DAVError as failed:
            if isinstance(failed, error.AuthorizationError) and (
                dav.ValidSyncToken.tag not in failed.preconditions
            ):
                raise
            return None  # expired token or no sync-collection after all: list instead
        gone = {_path(str(url)) for url in found.deleted_urls}
        changed: dict[str, str] = {}
        for member in found.objects:
            href = _path(str(member.url))
            if href in gone or not member.etag:
                gone.add(href)  # a removed member carries no etag
            else:
                changed[href] = str(member.etag)
        return CalendarChanges(
            changed=self._fetch(calendar, changed),
            deleted=sorted(gone),
            cursor=CalendarCursor(sync_token=str(found.sync_token or sync_token), ctag=ctag),
        )

    def _read(self, collection: CalendarCollection, hrefs: list[str]) -> list[FetchedResource]:
        with self._errors():
            return self._fetch(self._calendar(collection), dict.fromkeys(hrefs, ""))

    def _calendar(self, collection: CalendarCollection) -> Calendar:
        client = self._dav()
        return client.calendar(url=client.url.join(quote(collection.calendar_id)))

    def _collection_tags(self, calendar: Calendar) -> CalendarCursor:
        props: Any = calendar.get_properties([dav.SyncToken(), GetCTag()])
        return CalendarCursor(
            sync_token=str(props.get(dav.SyncToken.tag) or ""),
            ctag=str(props.get(GetCTag.tag) or ""),
        )

    def _etags(self, calendar: Calendar) -> dict[str, str]:
        response: Any = calendar.get_properties([dav.GetEtag()], depth=1, parse_response_xml=False)
        own = _path(str(calendar.url))
        return {
            _path(href): str(props[dav.GetEtag.tag])
            for href, props in response.expand_simple_props([dav.GetEtag()]).items()
            if _path(href) != own and props.get(dav.GetEtag.tag)
        }

    def _fetch(self, calendar: Calendar, etags: Mapping[str, str]) -> list[FetchedResource]:
        """Contents of these resources (a calendar-multiget REPORT per batch)."""
        hrefs = sorted(etags)
        base: Any = calendar.url
        fetched: list[FetchedResource] = []
        for start in range(0, len(hrefs), MULTIGET_BATCH):
            urls = [base.join(quote(h)) for h in hrefs[start : start + MULTIGET_BATCH]]
            members: Any = calendar.multiget(urls)
            for member in members:
                raw = member.raw_data
                if raw is None:
                    continue  # deleted since it was listed: the next sync reports it
                href = _path(str(member.url))
                etag = str(member.etag or etags.get(href) or "")
                fetched.append(FetchedResource(href=href, etag=etag, ics=raw))
        return fetched

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """The library's and the network's failures as this port's, without secrets."""
        where = self._shown
        try:
            yield
        except DestinationRefused as refused:
            raise CalendarUnavailable(
                f"not connecting to the calendar server at {where}: {refused}"
            ) from None
        except error.AuthorizationError as refused:
            who = f" for {self._username!r}" if self._username else ""
            if refused.status == 403:
                raise CalendarAuthFailed(
                    f"the calendar server at {where} does not let {self._username or 'anyone'}"
                    " read this calendar (HTTP 403)"
                ) from None
            raise CalendarAuthFailed(
                f"the calendar server at {where} refused the credentials{who}"
            ) from None
        except error.DAVError as failed:
            reason = self._scrub(str(failed.reason or type(failed).__name__))
            raise CalendarServerError(
                f"the calendar server at {where} failed the request: {reason}"
            ) from None
        except OSError as failed:  # requests/niquests errors are OSErrors too
            if isinstance(failed, ValueError):  # InvalidURL, InvalidSchema, ...
                raise CalendarServerError(f"{where} is not a usable CalDAV URL") from None
            cause = self._scrub(_cause(failed))
            raise CalendarUnavailable(
                f"cannot reach the calendar server at {where}: {cause}"
            ) from None


def _check_every_request(client: DAVClient, policy: DestinationPolicy) -> None:
    """Check the destination of every request the client sends, redirects and the URLs
    the server itself names (principal, calendar home) included, before it is sent; and
    connect to the very addresses checked: the client's session resolves names only
    from what the last check of that host found, never by a lookup of its own."""
    pinned = InMemoryResolver()  # an unknown name does not resolve at all
    library_session: Any = client.session
    session: Any = niquests.Session(
        multiplexed=getattr(library_session, "multiplexed", False), resolver=pinned
    )
    library_session.close()
    client.session = session
    send = session.send

    def checked_send(request: Any, **options: Any) -> Any:
        url = str(request.url)
        host, _port = http_destination(url)
        addresses = check_url(policy, url)
        if not _is_address(host):
            pinned.clear(host)
            for address in addresses:
                pinned.register(host, address)
        return send(request, **options)

    session.send = checked_send


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _unchanged(cursor: CalendarCursor, now: CalendarCursor) -> bool:
    if cursor.sync_token and now.sync_token:
        return cursor.sync_token == now.sync_token
    return bool(cursor.ctag) and cursor.ctag == now.ctag


def _path(href: str) -> str:
    """A resource's name independent of host and quoting: its unquoted path."""
    return unquote(urlsplit(href).path)


def _cause(failed: BaseException) -> str:
    """The innermost reason (`Connection refused`), not the library's wrapping."""
    seen: Any = failed
    while True:
        inner = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        inner = inner or getattr(seen, "reason", None) or seen.__cause__
        if not isinstance(inner, BaseException) or inner is seen:
            break
        seen = inner
    text = str(seen) or type(seen).__name__
    if "refused" in text.lower():
        return "connection refused"
    if "timed out" in text.lower() or "timeout" in type(seen).__name__.lower():
        return "timed out"
    if isinstance(seen, socket.gaierror) or "name or service not known" in text.lower():
        return "host not found"
    return f"{type(seen).__name__}: {text}"
