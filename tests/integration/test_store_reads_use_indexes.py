"""The reads the busy paths make (intelligence's batches and API, ingest's sync) are
answered through an index: a collection scan makes each batch slower as the store grows.
Three did on the MongoDB-protocol server (it scans when a filter has a condition beside
the index's fields and an `$in`): intelligence's bucket query, whose real-time latency
then grew with history; ingest's visible/hidden sightings of a thread and a calendar's
resource index. Checked with `explain` on the real server, for the very filters the
stores send. A real MongoDB plans all of those filters with an index, so there this test
only guards against a missing index; on the stand-in it also guards the filter shapes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient, monitoring

from commsintel.access.adapters.store import AccessStore
from commsintel.contracts.events import InteractionRecord, InteractionResolved, MailboxRemoved
from commsintel.identity.adapters.store import IdentityStore
from commsintel.identity.service_layer.handlers import IdentityHandlers
from commsintel.ingest.adapters.calendar_store import CalendarStore
from commsintel.ingest.adapters.crypto import SecretBox, new_key
from commsintel.ingest.adapters.store import IngestStore
from commsintel.ingest.domain.calendar import ResourceState
from commsintel.ingest.domain.sightings import Mailbox
from commsintel.intelligence.adapters.store import IntelligenceStore
from commsintel.intelligence.domain.strength import StrengthModel
from commsintel.intelligence.service_layer.handlers import IntelligenceHandlers
from tests.support.identity_memory_store import InMemoryIdentityStore
from tests.support.identity_scenario import PublishedLog, Scenario, workspace_where_survivor_is

pytestmark = [pytest.mark.mongo]
START = datetime(2026, 1, 1, tzinfo=UTC)


class FindsSent(monitoring.CommandListener):
    """The filters of every find (and distinct) sent, by collection."""

    def __init__(self) -> None:
        self.finds: list[tuple[str, dict]] = []

    def started(self, event) -> None:
        if event.command_name == "find":
            self.finds.append((event.command["find"], dict(event.command.get("filter", {}))))
        elif event.command_name == "distinct":
            self.finds.append((event.command["distinct"], dict(event.command.get("query", {}))))

    def succeeded(self, event) -> None:
        pass

    def failed(self, event) -> None:
        pass


def _stages(plan: dict) -> set[str]:
    found = {plan.get("stage", "")}
    for key in ("inputStage", "queryPlan"):
        if isinstance(plan.get(key), dict):
            found |= _stages(plan[key])
    for child in plan.get("inputStages", []):
        found |= _stages(child)
    return found


def _history(workspace: str) -> list:
    events = []
    for day in range(60):
        member = ("alice", "ben")[day % 2]
        events.append(
            InteractionResolved(
                event_id=f"{workspace}-{day}",
                workspace_id=workspace,
                interaction_key=f"m{day}",
                kind="email",
                mailbox_id=f"mb-{member}",
                member_id=member,
                occurred_at=START + timedelta(days=day * 7),
                direction="sent",
                participant_count=2,
                records=(
                    InteractionRecord(
                        record_id=f"person-{day % 20}", record_kind="person", role="to"
                    ),
                    InteractionRecord(
                        record_id=f"company-{day % 5}", record_kind="company", role="to"
                    ),
                ),
            )
        )
    return events


@pytest.fixture
async def listened(mongo_uri):
    """A fresh database on a client that records every filter it sends."""
    listener = FindsSent()
    client = AsyncMongoClient(mongo_uri, tz_aware=True, event_listeners=[listener])
    try:
        yield client[f"plans_{uuid.uuid4().hex[:8]}"], listener
    finally:
        await client.close()


async def test_batches_and_api_reads_never_scan_the_collection(listened) -> None:
    database, listener = listened
    store = IntelligenceStore(database)
    await store.ensure_indexes()
    workspace = "ws-plans"
    handlers = IntelligenceHandlers(store, StrengthModel())
    history = _history(workspace)
    for start in range(0, len(history), 10):
        await handlers.handle_batch(history[start : start + 10])
    # A batch that re-resolves a sighting and removes a mailbox, then the API's reads.
    await handlers.handle_batch(
        [
            history[3].model_copy(update={"event_id": "again", "records": ()}),
            MailboxRemoved(
                event_id="removed",
                workspace_id=workspace,
                mailbox_id="mb-ben",
                member_id="ben",
                removed_at=START,
            ),
        ]
    )
    await store.interactions_of(workspace, "company-1")
    await store.strongest_records(workspace, 5)
    await store.strongest_records(workspace, 5, member_id="alice")

    shapes = await _assert_no_scans(database, listener)
    # The store's reads: buckets by sighting, by record; strengths by member, ranked.
    assert ("refs", "workspace_id") in shapes and ("record_id", "workspace_id") in shapes
    assert ("member_id", "workspace_id") in shapes


async def _assert_no_scans(database, listener: FindsSent) -> set[tuple]:
    """Explains every distinct filter sent; returns their shapes (sorted field names)."""
    queries = {(collection, repr(query)): query for collection, query in listener.finds}
    for (collection, _), query in sorted(queries.items()):
        explained = await database.command("explain", {"find": collection, "filter": query})
        stages = _stages(explained["queryPlanner"]["winningPlan"])
        assert "COLLSCAN" not in stages, (collection, query, stages)
    return {tuple(sorted(query)) for query in queries.values()}


async def test_ingest_sync_reads_never_scan_the_collection(listened) -> None:
    database, listener = listened
    store = IngestStore(database, SecretBox(new_key()))
    calendars = CalendarStore(database)
    await store.ensure_indexes()
    await calendars.ensure_indexes()
    mailbox = Mailbox("ws", "mb-1", "alice", frozenset({"alice@ours.com"}))
    await store.record_sightings(
        mailbox,
        [
            {"message_key": f"m{n}", "thread_key": f"t{n % 5}", "hidden_reason": ""}
            for n in range(30)
        ],
    )
    await store.mark_hidden("mb-1", ["m0", "m5"], "blocked")
    visible = await store.visible_sightings("mb-1", ["t0", "t1"])
    hidden = await store.hidden_sightings("mb-1", ["t0", "t1"])
    assert {d.message_key for d in hidden} == {"m0", "m5"}
    assert {d.message_key for d in visible} == {f"m{n}" for n in range(30) if n % 5 in (0, 1)} - {
        "m0",
        "m5",
    }
    await store.already_synced("mb-1", ["m1", "m99"])
    await calendars.save_resource_states(
        mailbox,
        [
            ResourceState("work", f"/cal/{n}.ics", f"etag-{n}", None, deleted=n == 3)
            for n in range(6)
        ],
    )
    index = await calendars.resource_index("mb-1", "work")
    assert sorted(index) == sorted(f"/cal/{n}.ics" for n in range(6) if n != 3)
    assert await calendars.calendar_ids("mb-1") == {"work"}
    await calendars.all_resource_states("mb-1", "work")

    shapes = await _assert_no_scans(database, listener)
    assert ("mailbox_id", "thread_key") in shapes
    assert ("calendar_id", "mailbox_id") in shapes


async def test_identity_reads_and_pages_never_scan_the_collection(listened) -> None:
    database, listener = listened
    store = IdentityStore(database)
    await store.ensure_indexes()
    workspace = workspace_where_survivor_is("bb@gmail.com", "bob@acme.com")
    mail = Scenario(workspace_id=workspace)
    names = {"bob@acme.com": "Bob Buyer", "bb@gmail.com": "Bob Buyer"}
    handlers = IdentityHandlers(store, PublishedLog())
    await handlers.handle_batch(
        [
            mail.sent("bob@acme.com", "joe@acme.com", names=names, key="hello"),
            mail.received(
                "bob@acme.com",
                names=names,
                key="signed",
                signature=Scenario.signature("Bob Buyer", "bb@gmail.com"),
            ),
            mail.received("eve@startup.io", key="cold"),
        ]
    )
    await handlers.handle_batch([mail.sent("bb@gmail.com", names=names, key="personal")])
    joe = (await store.contact(workspace, "joe@acme.com")).person_id
    company = (await store.person(workspace, joe)).company_id
    people = await store.people_page(workspace, company_id=company, after="", limit=10)
    assert len(people) == 2  # Bob (merged, his company from his work address) and Joe
    await store.people_page(workspace, company_id=None, after="", limit=10)
    await store.companies_page(workspace, domain="acme.com", after="", limit=10)
    await store.companies_page(workspace, domain=None, after="", limit=10)

    shapes = await _assert_no_scans(database, listener)
    assert ("_id", "record_company_id", "workspace_id") in shapes


async def test_access_record_reads_never_scan_the_collection(listened) -> None:
    database, listener = listened
    store = AccessStore(database)
    await store.ensure_indexes()
    mail = Scenario(workspace_id="ws-access")
    log = PublishedLog()  # what identity publishes about two new people, applied
    await IdentityHandlers(InMemoryIdentityStore(), log).handle_batch(
        [mail.sent("bob@acme.com", "joe@acme.com")]
    )
    await store.apply(log.events)
    bob = log.people()["bob@acme.com"]
    assert (await store.record("ws-access", bob)).record_id == bob
    assert await store.record("another-workspace", bob) is None
    assert len(await store.records("ws-access", "person", "", 10)) == 2
    await store.records("ws-access", None, "", 10)
    await store.load_state("ws-access")

    await _assert_no_scans(database, listener)
