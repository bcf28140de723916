"""Calendar sync against a real Radicale (CalDAV), the real broker and the real store:
no mocks. Radicale is PyPI's `radicale`, started here on a free loopback port with an
htpasswd file, one calendar user per test."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from commsintel.contracts.envelope import decode_event, header_map
from commsintel.contracts.events import Event, EventCancelled, EventSynced
from commsintel.contracts.topics import INGEST_CALENDAR
from commsintel.ingest.adapters.caldav_source import CalDavAccount, CalDavSource
from commsintel.ingest.adapters.calendar_source import (
    CalendarAuthFailed,
    CalendarCursor,
    CalendarUnavailable,
)
from commsintel.ingest.adapters.calendar_store import CalendarStore
from commsintel.ingest.adapters.ics_source import IcsFeed, IcsSource
from commsintel.ingest.domain.sightings import Mailbox
from commsintel.ingest.service_layer.calendar import sync_calendar
from commsintel.pipeline import ensure_topics
from commsintel.platform.mongo import mongo_client
from commsintel.platform.streaming import EventPublisher, build_broker
from commsintel.platform.telemetry import configure_tracing
from services.ingest.tests.integration.local_destinations import LOOPBACK_ALLOWED
from services.ingest.tests.integration.radicale_server import PASSWORD, free_port

pytestmark = [pytest.mark.caldav, pytest.mark.kafka, pytest.mark.mongo]

NOW = datetime(2024, 1, 15, 9, 0, tzinfo=UTC)


# --- the broker and the store ---------------------------------------------------------


@dataclass
class CalendarSync:
    """What the sync loop does per pass, and what came out on `ingest.calendar`."""

    mailbox: Mailbox
    store: CalendarStore
    publisher: EventPublisher
    kafka_bootstrap: str

    async def run(self, source, now: datetime = NOW):
        return await sync_calendar(
            source, self.mailbox, store=self.store, publisher=self.publisher, now=now
        )

    async def published(self) -> list[Event]:
        return await events_on_topic(self.kafka_bootstrap, self.mailbox.workspace_id)


@pytest.fixture
async def calendar_sync(kafka_bootstrap: str, mongo_uri: str) -> AsyncIterator[CalendarSync]:
    await ensure_topics(kafka_bootstrap)
    workspace = f"ws-{uuid.uuid4().hex[:10]}"
    mailbox = Mailbox(workspace, f"mb-{workspace}", "alice", frozenset({"alice@northwind.io"}))
    client = mongo_client(mongo_uri, "calendar-sync-test")
    store = CalendarStore(client[f"ingest_calendar_{uuid.uuid4().hex[:8]}"])
    await store.ensure_indexes()
    broker = build_broker(kafka_bootstrap, configure_tracing("calendar-test"), "calendar-test")
    await broker.start()
    try:
        yield CalendarSync(mailbox, store, EventPublisher(broker), kafka_bootstrap)
    finally:
        await broker.stop()
        await client.close()


async def events_on_topic(bootstrap: str, workspace: str) -> list[Event]:
    """Every event of `workspace` on ingest.calendar, in order, up to the current end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()  # fetches the metadata partitions_for_topic reads
        partitions = [
            TopicPartition(INGEST_CALENDAR, p)
            for p in sorted(consumer.partitions_for_topic(INGEST_CALENDAR) or ())
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[Event] = []
        deadline = time.monotonic() + 60
        while [p for p in partitions if await consumer.position(p) < ends[p]]:
            assert time.monotonic() < deadline, "ingest.calendar not read to its end in 60 s"
            batch = await consumer.getmany(*partitions, timeout_ms=500)
            for records in batch.values():
                found += [
                    decode_event(header_map(r.headers), r.value)
                    for r in records
                    if r.key == workspace.encode()
                ]
        return found
    finally:
        await consumer.stop()


# --- calendars as a calendar app writes them ------------------------------------------


def vcalendar(*events: str) -> str:
    body = "".join(
        f"BEGIN:VEVENT\nDTSTAMP:20240101T000000Z\n{e.strip()}\nEND:VEVENT\n" for e in events
    )
    return (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//commsintel//tests//EN\n" + body + "END:VCALENDAR\n"
    ).replace("\n", "\r\n")


RENEWAL = """UID:renewal@brightpath.com
SUMMARY:Renewal call
DTSTART:20240117T100000Z
DTEND:20240117T110000Z
ORGANIZER;CN=Alice Martin:mailto:alice@northwind.io
ATTENDEE;CN=Priya Shah;PARTSTAT=ACCEPTED:mailto:priya.shah@brightpath.com
ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:sam@brightpath.com
"""
WEEKLY = """UID:weekly-sync@northwind.io
SUMMARY:Weekly sync
DTSTART:20240108T090000Z
DURATION:PT30M
RRULE:FREQ=WEEKLY;COUNT=5
EXDATE:20240115T090000Z
ORGANIZER:mailto:alice@northwind.io
ATTENDEE;PARTSTAT=TENTATIVE:mailto:omar@acme.com
"""


def keys(events: list[Event], kind: type[Event] = EventSynced) -> list[str]:
    return sorted(e.calendar_event_key for e in events if isinstance(e, kind))


# --- the tests --------------------------------------------------------------------------


async def test_first_sync_publishes_every_occurrence_and_a_second_publishes_nothing(
    radicale, calendar_sync
):
    # given a single meeting and a weekly series with one week skipped
    owner = radicale.new_member()
    owner.put(vcalendar(RENEWAL))
    owner.put(vcalendar(WEEKLY))
    source = CalDavSource(owner.account())

    first = await calendar_sync.run(source)
    published = await calendar_sync.published()

    # then one EventSynced per occurrence, with organizer, replies and times
    assert (first.calendars, first.resources_read, first.published) == (1, 2, 5)
    assert keys(published) == [
        "renewal@brightpath.com",
        "weekly-sync@northwind.io/20240108T090000Z",
        "weekly-sync@northwind.io/20240122T090000Z",
        "weekly-sync@northwind.io/20240129T090000Z",
        "weekly-sync@northwind.io/20240205T090000Z",
    ]
    renewal = next(e for e in published if e.calendar_event_key == "renewal@brightpath.com")
    assert renewal.organizer == "alice@northwind.io"
    assert [(a.address, a.rsvp) for a in renewal.attendees] == [
        ("priya.shah@brightpath.com", "accepted"),
        ("sam@brightpath.com", "needs_action"),
    ]
    assert renewal.starts_at == datetime(2024, 1, 17, 10, tzinfo=UTC)

    # when the same pass runs again, nothing changed on the server
    second = await calendar_sync.run(source)

    assert (second.resources_read, second.published, second.cancelled) == (0, 0, 0)
    assert len(await calendar_sync.published()) == 5
    await source.aclose()


async def test_attendee_reply_publishes_an_update_under_the_same_key(radicale, calendar_sync):
    owner = radicale.new_member()
    owner.put(vcalendar(RENEWAL))
    source = CalDavSource(owner.account())
    await calendar_sync.run(source)

    # when Sam accepts (the server now holds the updated invitation)
    owner.replace(
        "renewal@brightpath.com",
        vcalendar(RENEWAL.replace("PARTSTAT=NEEDS-ACTION", "PARTSTAT=ACCEPTED")),
    )
    result = await calendar_sync.run(source)

    # then one new EventSynced for the same meeting, with a new id
    original, update = await calendar_sync.published()
    assert (result.resources_read, result.published, result.cancelled) == (1, 1, 0)
    assert update.calendar_event_key == original.calendar_event_key
    assert update.event_id != original.event_id
    assert [a.rsvp for a in update.attendees] == ["accepted", "accepted"]
    await source.aclose()


async def test_deleted_event_is_cancelled_once(radicale, calendar_sync):
    owner = radicale.new_member()
    owner.put(vcalendar(RENEWAL))
    owner.put(vcalendar(WEEKLY))
    source = CalDavSource(owner.account())
    await calendar_sync.run(source)

    owner.delete("renewal@brightpath.com")
    result = await calendar_sync.run(source)
    again = await calendar_sync.run(source)

    published = await calendar_sync.published()
    assert (result.published, result.cancelled) == (0, 1)
    assert keys(published, EventCancelled) == ["renewal@brightpath.com"]
    assert (again.published, again.cancelled) == (0, 0)
    await source.aclose()


async def test_forgotten_sync_token_falls_back_to_comparing_etags(radicale, calendar_sync):
    # given a synced calendar whose sync-token the server no longer knows
    owner = radicale.new_member()
    owner.put(vcalendar(RENEWAL))
    owner.put(vcalendar(WEEKLY))
    source = CalDavSource(owner.account())
    await calendar_sync.run(source)
    (calendar,) = await source.calendars()
    await calendar_sync.store.save_cursor(
        calendar_sync.mailbox,
        calendar.calendar_id,
        CalendarCursor(sync_token="http://radicale.org/ns/sync/forgotten", ctag="old"),
    )

    # when one event is deleted and the other left alone
    owner.delete("weekly-sync@northwind.io")
    result = await calendar_sync.run(source)

    # then the listing finds exactly the deletion: nothing republished
    assert (result.resources_read, result.published, result.cancelled) == (0, 0, 4)
    await source.aclose()


async def test_wrong_password_is_auth_failed_and_the_message_keeps_the_password_out(
    radicale, calendar_sync
):
    owner = radicale.new_member()
    source = CalDavSource(owner.account(password="wrong-" + PASSWORD))

    with pytest.raises(CalendarAuthFailed) as refused:
        await calendar_sync.run(source)

    assert owner.username in str(refused.value)
    assert PASSWORD not in str(refused.value)
    assert refused.value.kind == "auth_failed"
    await source.aclose()


async def test_unreachable_server_is_unavailable(calendar_sync):
    source = CalDavSource(
        CalDavAccount(f"http://127.0.0.1:{free_port()}/", "x", PASSWORD, 5, LOOPBACK_ALLOWED)
    )

    with pytest.raises(CalendarUnavailable) as unreachable:
        await calendar_sync.run(source)

    assert "connection refused" in str(unreachable.value)
    assert PASSWORD not in str(unreachable.value)
    await source.aclose()


async def test_ics_file_import_expands_a_series_and_cancels_what_leaves_the_file(
    tmp_path, calendar_sync
):
    # given an exported calendar file with a weekly series and a single meeting
    export = tmp_path / "alice.ics"
    export.write_text(vcalendar(WEEKLY, RENEWAL))
    source = IcsSource(IcsFeed(str(export), local_file=True))

    first = await calendar_sync.run(source)
    unchanged = await calendar_sync.run(source)
    # when a new export no longer holds the single meeting
    export.write_text(vcalendar(WEEKLY))
    later = await calendar_sync.run(source)

    published = await calendar_sync.published()
    assert (first.resources_read, first.published) == (2, 5)
    assert {e.series_key for e in published if isinstance(e, EventSynced)} == {
        "",
        "weekly-sync@northwind.io",
    }
    assert (unchanged.published, unchanged.cancelled) == (0, 0)
    assert (later.published, later.cancelled) == (0, 1)
    assert keys(published, EventCancelled) == ["renewal@brightpath.com"]


async def test_removing_the_mailbox_forgets_everything_calendar_sync_kept(radicale, calendar_sync):
    owner = radicale.new_member()
    owner.put(vcalendar(RENEWAL))
    source = CalDavSource(owner.account())
    await calendar_sync.run(source)

    await calendar_sync.store.forget_mailbox(calendar_sync.mailbox.mailbox_id)

    assert await calendar_sync.store.calendar_ids(calendar_sync.mailbox.mailbox_id) == set()
    # and a new connection starts over: the same facts again, under the same ids
    again = await calendar_sync.run(source)
    first, second = await calendar_sync.published()
    assert again.published == 1 and first.event_id == second.event_id
    await source.aclose()


async def test_calendar_deleted_on_the_server_cancels_all_it_published(radicale, calendar_sync):
    owner = radicale.new_member()
    owner.put(vcalendar(RENEWAL))
    owner.put(vcalendar(WEEKLY))
    source = CalDavSource(owner.account())
    await calendar_sync.run(source)

    owner.calendar.delete()
    result = await calendar_sync.run(source)
    again = await calendar_sync.run(source)

    assert (result.calendars, result.cancelled) == (0, 5)
    assert keys(await calendar_sync.published(), EventCancelled) == keys(
        await calendar_sync.published(), EventSynced
    )
    assert (again.published, again.cancelled) == (0, 0)
    await source.aclose()


async def test_ics_feed_over_http_with_basic_auth(radicale, calendar_sync):
    # Radicale serves a whole calendar as one .ics on GET: a feed like any other
    owner = radicale.new_member()
    owner.put(vcalendar(RENEWAL))
    owner.put(vcalendar(WEEKLY))
    feed_url = f"{radicale.url}{owner.username}/work/"

    def feed(password: str) -> IcsSource:
        return IcsSource(IcsFeed(feed_url, owner.username, password, destinations=LOOPBACK_ALLOWED))

    result = await calendar_sync.run(feed(PASSWORD))
    with pytest.raises(CalendarAuthFailed) as refused:
        await calendar_sync.run(feed("wrong"))

    assert (result.resources_read, result.published) == (2, 5)
    assert "401" in str(refused.value) and "wrong" not in str(refused.value)
