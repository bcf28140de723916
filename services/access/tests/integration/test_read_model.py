"""The in-memory states against the real store: a change applied by this instance is
folded in place, one applied by another instance is reloaded, and concurrent queries
share their version reads."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from commsintel.access.adapters.store import AccessStore
from commsintel.access.domain.visibility import Level
from commsintel.access.service_layer.workspace_states import WorkspaceStates
from commsintel.contracts.events import (
    MailboxConnected,
    MailboxSharingLevelChanged,
    MessageParticipant,
    MessageSynced,
)
from commsintel.platform.mongo import mongo_client

pytestmark = [pytest.mark.mongo]
AT = datetime(2026, 2, 1, tzinfo=UTC)


class CountingStore(AccessStore):
    version_reads = 0
    loads = 0

    async def version(self, workspace_id: str) -> int:
        self.version_reads += 1
        return await super().version(workspace_id)

    async def load_state(self, workspace_id: str):
        self.loads += 1
        return await super().load_state(workspace_id)


def mail(n: int) -> list:
    return [
        MailboxConnected(
            event_id="c",
            workspace_id="ws",
            mailbox_id="mb",
            member_id="alice",
            owner_addresses=("alice@ours.com",),
            source="archive",
            connected_at=AT,
        ),
        *(
            MessageSynced(
                event_id=f"m{i}",
                workspace_id="ws",
                mailbox_id="mb",
                member_id="alice",
                mailbox_owner_addresses=("alice@ours.com",),
                message_key=f"m{i}",
                thread_key=f"m{i}",
                subject="hello",
                sent_at=AT,
                direction="sent",
                participants=(MessageParticipant(role="to", address="bob@acme.com"),),
            )
            for i in range(n)
        ),
    ]


def level_changed(level: str, event_id: str) -> MailboxSharingLevelChanged:
    return MailboxSharingLevelChanged(
        event_id=event_id,
        workspace_id="ws",
        mailbox_id="mb",
        owner_member_id="alice",
        level=level,
        changed_at=AT,
    )


@pytest.fixture
async def database(mongo_uri):
    client = mongo_client(mongo_uri, "access-read-model-test")
    name = f"access_read_model_{uuid.uuid4().hex[:8]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


async def test_this_instances_writes_are_folded_in_place_without_a_reload(database) -> None:
    store = CountingStore(database)
    states = WorkspaceStates(store)
    await states.apply(mail(3))
    state = await states.current("ws")
    assert store.loads == 1
    await states.apply([level_changed("subject", "l1")])
    again = await states.current("ws")
    assert again is state and store.loads == 1
    assert again.levels("zoe", ["m0"]) == [Level.SUBJECT]


async def test_another_instances_writes_are_seen_on_the_next_query(database) -> None:
    here, there = WorkspaceStates(AccessStore(database)), WorkspaceStates(AccessStore(database))
    await there.apply(mail(2))
    assert (await here.current("ws")).levels("zoe", ["m0", "m1"]) == [Level.METADATA] * 2
    await there.apply([level_changed("full", "l1")])
    assert (await here.current("ws")).levels("zoe", ["m0", "m1"]) == [Level.FULL] * 2


async def test_concurrent_queries_share_their_version_reads(database) -> None:
    store = CountingStore(database)
    states = WorkspaceStates(store)
    await states.apply(mail(1))
    await states.current("ws")
    before = store.version_reads
    found = await asyncio.gather(*(states.current("ws") for _ in range(50)))
    assert len({id(s) for s in found}) == 1
    assert store.version_reads - before <= 2
