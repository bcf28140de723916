"""Sync a mailbox's calendars (a CalDAV account or an .ics feed) into `ingest.calendar`.

Per calendar: what changed since its cursor is read and expanded over the sync window
(docs/decisions/0013), the new facts are published, and only then are the per-resource
states and the cursor saved. A crash in between republishes the same event ids (consumers
dedupe) rather than losing anything; re-running a finished sync publishes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from opentelemetry import trace

from commsintel.contracts.events import Event, EventCancelled, EventSynced
from commsintel.ingest.adapters.calendar_source import (
    CalendarCollection,
    CalendarSource,
    FetchedResource,
)
from commsintel.ingest.adapters.calendar_store import CalendarStore
from commsintel.ingest.domain.calendar import (
    MalformedCalendar,
    ResourceState,
    SyncWindow,
    needs_revisit,
    parse_calendar_resource,
    resource_deleted,
    resource_read,
    sync_window,
)
from commsintel.ingest.domain.sightings import Mailbox
from commsintel.platform.streaming import EventPublisher

tracer = trace.get_tracer("commsintel.ingest.calendar")

DEFAULT_DAYS_BACK = 365
DEFAULT_DAYS_AHEAD = 180


@dataclass(frozen=True, slots=True)
class MalformedResource:
    calendar_id: str
    href: str  # "" when the whole calendar (an .ics feed) could not be read
    reason: str


@dataclass
class CalendarSyncResult:
    calendars: int = 0
    resources_read: int = 0
    published: int = 0  # EventSynced
    cancelled: int = 0  # EventCancelled
    malformed: list[MalformedResource] = field(default_factory=list)


async def sync_calendar(
    source: CalendarSource,
    mailbox: Mailbox,
    *,
    store: CalendarStore,
    publisher: EventPublisher,
    now: datetime,
    window_days_back: int = DEFAULT_DAYS_BACK,
    window_days_ahead: int = DEFAULT_DAYS_AHEAD,
    batch_size: int = 200,
    remove_missing: bool = True,
) -> CalendarSyncResult:
    """One pass over every calendar of `source` for `mailbox`. `remove_missing=False`
    (an import of files) leaves calendars the source does not list alone.

    Raises the source's CalendarAuthFailed / CalendarUnavailable / CalendarServerError;
    what was saved before the failure stays saved, and the next pass goes on from there.
    """
    window = sync_window(now, days_back=window_days_back, days_ahead=window_days_ahead)
    result = CalendarSyncResult()
    sync = _CalendarPass(mailbox, store, publisher, window, now, batch_size, result)
    try:
        calendars = await source.calendars()
    except MalformedCalendar as malformed:  # a feed that is not iCalendar: change nothing
        result.malformed.append(MalformedResource("", "", malformed.reason))
        return result
    for calendar in calendars:
        with tracer.start_as_current_span(
            "calendar sync", attributes={"mailbox_id": mailbox.mailbox_id}
        ):
            await sync.calendar(source, calendar)
        result.calendars += 1
    if not remove_missing:
        return result
    seen = {calendar.calendar_id for calendar in calendars}
    for calendar_id in sorted(await store.calendar_ids(mailbox.mailbox_id) - seen):
        await sync.calendar_removed(calendar_id)
    return result


@dataclass
class _CalendarPass:
    mailbox: Mailbox
    store: CalendarStore
    publisher: EventPublisher
    window: SyncWindow
    now: datetime
    batch_size: int
    result: CalendarSyncResult

    async def calendar(self, source: CalendarSource, calendar: CalendarCollection) -> None:
        mailbox_id, calendar_id = self.mailbox.mailbox_id, calendar.calendar_id
        cursor = await self.store.load_cursor(mailbox_id, calendar_id)
        index = await self.store.resource_index(mailbox_id, calendar_id)
        known = {href: etag for href, (etag, _) in index.items()}
        try:
            changes = await source.changes(calendar, cursor, known)
        except MalformedCalendar as malformed:
            self.result.malformed.append(MalformedResource(calendar_id, "", malformed.reason))
            return
        deleted = sorted(set(changes.deleted) & index.keys())
        fresh = {resource.href for resource in changes.changed} | set(deleted)
        # Unchanged on the server, but the window moved onto occurrences not read yet.
        revisit = sorted(
            href
            for href, (_, revisit_at) in index.items()
            if href not in fresh and needs_revisit(revisit_at, self.window)
        )
        resources = list(changes.changed)
        if revisit:
            resources += await source.read(calendar, revisit)
        for start in range(0, len(resources), self.batch_size):
            await self._read_batch(calendar_id, resources[start : start + self.batch_size])
        for start in range(0, len(deleted), self.batch_size):
            await self._delete_batch(calendar_id, deleted[start : start + self.batch_size])
        await self.store.release(mailbox_id, calendar_id, changes.deleted)
        await self.store.save_cursor(self.mailbox, calendar_id, changes.cursor)

    async def calendar_removed(self, calendar_id: str) -> None:
        """The calendar is gone from the server: like every resource of it deleted.
        The states stay (as tombstones), so a calendar that comes back gets new ids."""
        states = await self.store.all_resource_states(self.mailbox.mailbox_id, calendar_id)
        outcomes = [resource_deleted(state, self.mailbox, self.now) for state in states]
        await self._publish([e for outcome in outcomes for e in outcome.events])
        await self.store.save_resource_states(self.mailbox, (o.state for o in outcomes))
        await self.store.forget_cursor(self.mailbox.mailbox_id, calendar_id)

    async def _read_batch(self, calendar_id: str, batch: Sequence[FetchedResource]) -> None:
        previous = await self.store.resource_states(
            self.mailbox.mailbox_id, calendar_id, (resource.href for resource in batch)
        )
        events: list[Event] = []
        states: dict[str, ResourceState] = {}
        read: list[str] = []
        for resource in batch:
            self.result.resources_read += 1
            last = previous.get(resource.href)
            try:
                parsed = parse_calendar_resource(resource.ics, self.window)
            except MalformedCalendar as malformed:
                await self.store.quarantine(
                    self.mailbox, calendar_id, resource.href, resource.ics, malformed.reason
                )
                self.result.malformed.append(
                    MalformedResource(calendar_id, resource.href, malformed.reason)
                )
                # What was published stands; the etag is remembered, so an unchanged
                # broken resource is not read again on every pass.
                states[resource.href] = ResourceState(
                    calendar_id,
                    resource.href,
                    resource.etag,
                    None,
                    last.occurrences if last is not None else {},
                )
                continue
            outcome = resource_read(
                self.mailbox,
                calendar_id=calendar_id,
                href=resource.href,
                etag=resource.etag,
                resource=parsed,
                previous=states.get(resource.href, last),
                window=self.window,
                now=self.now,
            )
            events += outcome.events
            states[resource.href] = outcome.state
            read.append(resource.href)
        await self._publish(events)
        await self.store.save_resource_states(self.mailbox, states.values())
        await self.store.release(self.mailbox.mailbox_id, calendar_id, read)

    async def _delete_batch(self, calendar_id: str, hrefs: Sequence[str]) -> None:
        previous = await self.store.resource_states(self.mailbox.mailbox_id, calendar_id, hrefs)
        outcomes = [resource_deleted(state, self.mailbox, self.now) for state in previous.values()]
        await self._publish([e for outcome in outcomes for e in outcome.events])
        await self.store.save_resource_states(self.mailbox, (o.state for o in outcomes))

    async def _publish(self, events: Sequence[Event]) -> None:
        if not events:
            return
        await self.publisher.publish(events)
        self.result.published += sum(isinstance(e, EventSynced) for e in events)
        self.result.cancelled += sum(isinstance(e, EventCancelled) for e in events)
