"""The MongoDB store and the in-memory store are one port: the same inputs, fed in the
same batches, make identity publish exactly the same events with either."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from commsintel.contracts.events import EnhancedRecordCreationChanged, PersonUnmerged
from commsintel.identity.adapters.store import IdentityStore
from commsintel.identity.service_layer.handlers import IdentityHandlers
from commsintel.platform.mongo import mongo_client
from tests.support.identity_memory_store import InMemoryIdentityStore
from tests.support.identity_scenario import PublishedLog, Scenario, workspace_where_survivor_is

pytestmark = [pytest.mark.mongo]
AT = datetime(2026, 3, 1, tzinfo=UTC)
NAMES = {"bob@acme.com": "Bob Buyer", "bb@gmail.com": "Bob Buyer", "eve@startup.io": "Eve"}


def _batches(workspace: str):
    mail = Scenario(workspace_id=workspace)
    signed = Scenario.signature(
        "Bob Buyer", "bb@gmail.com", job_title="Buyer", phone_numbers=("+15550100",)
    )
    return [
        [
            mail.received("eve@startup.io", names=NAMES, key="cold"),
            mail.received("bob@acme.com", names=NAMES, key="hello"),
        ],
        [mail.sent("bob@acme.com", cc=["joe@acme.com"], names=NAMES, key="reply")],
        [
            mail.received("bob@acme.com", names=NAMES, key="signed", signature=signed),
            mail.sent("bb@gmail.com", names=NAMES, key="personal"),
        ],
        [
            EnhancedRecordCreationChanged(
                event_id=f"{workspace}-off",
                workspace_id=workspace,
                enabled=False,
                changed_by="alice",
                changed_at=AT,
            )
        ],
    ]


async def _run(store, workspace: str, extra=None) -> PublishedLog:
    log = PublishedLog()
    handlers = IdentityHandlers(store, log)
    for batch in _batches(workspace):
        await handlers.handle_batch(batch)
    if extra:
        await handlers.handle_batch(extra(log))
    return log


def _unmerge_first(workspace):
    def build(log: PublishedLog):
        [merge] = [e for e in log.events if type(e).__name__ == "PeopleMerged"]
        return [
            PersonUnmerged(
                event_id=f"{workspace}-undo",
                workspace_id=workspace,
                survivor_id=merge.survivor_id,
                restored_id=merge.merged_id,
                unmerged_by="alice",
                unmerged_at=AT,
            )
        ]

    return build


async def test_mongodb_and_in_memory_stores_make_identity_publish_the_same(mongo_uri) -> None:
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    client = mongo_client(mongo_uri, "contract-test")
    try:
        database = client[f"identity_contract_{uuid.uuid4().hex[:8]}"]
        store = IdentityStore(database)
        await store.ensure_indexes()
        in_mongo = await _run(store, workspace, _unmerge_first(workspace))
        in_memory = await _run(InMemoryIdentityStore(), workspace, _unmerge_first(workspace))
        # A merge happened, was undone, and both stores agree on every event.
        kinds = {type(e).__name__ for e in in_mongo.events}
        assert {"PersonCreated", "PeopleMerged", "RecordEnriched", "InteractionResolved"} <= kinds
        assert in_mongo.events == in_memory.events
        # What MongoDB holds reads back as the same records.
        people = in_mongo.people()
        stored = await store.person(workspace, people["bob@acme.com"])
        assert stored.fields["job_title"].values == ("Buyer",)
        assert stored.company_id is not None
    finally:
        await client.close()


@pytest.mark.parametrize("work_record_survives", [True, False])
async def test_people_of_a_company_include_a_merged_record_whichever_address_survives(
    mongo_uri, work_record_survives: bool
) -> None:
    """Bob's work address is at Acme, his personal one at no company; merged, the one
    record is listed under Acme whichever of the two ids survived; unmerged, only the
    work-address record is."""
    work, personal = "bob@acme.com", "bb@gmail.com"
    workspace = workspace_where_survivor_is(
        *((work, personal) if work_record_survives else (personal, work))
    )
    client = mongo_client(mongo_uri, "contract-test")
    try:
        store = IdentityStore(client[f"identity_people_{uuid.uuid4().hex[:8]}"])
        await store.ensure_indexes()
        log = PublishedLog()
        handlers = IdentityHandlers(store, log)
        for batch in _batches(workspace)[:3]:
            await handlers.handle_batch(batch)
        acme = log.links()[log.people()[work]]

        async def listed_at_acme() -> set[str]:
            people = await store.people_page(workspace, company_id=acme, after="", limit=50)
            return {p.person_id for p in people}

        [merge] = [e for e in log.events if type(e).__name__ == "PeopleMerged"]
        joe = log.people()["joe@acme.com"]
        assert await listed_at_acme() == {merge.survivor_id, joe}
        await handlers.handle_batch(_unmerge_first(workspace)(log))
        assert await listed_at_acme() == {log.people()[work], joe}
    finally:
        await client.close()
