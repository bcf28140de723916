"""After MailboxRemoved, access shows what it would had that mailbox never been synced:
its messages are gone unless another mailbox synced them too."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from commsintel.access.adapters.store import AccessStore
from commsintel.contracts.events import (
    InteractionRecord,
    InteractionResolved,
    MailboxConnected,
    MailboxRemoved,
    MessageParticipant,
    MessageSynced,
)
from commsintel.platform.mongo import mongo_client

pytestmark = [pytest.mark.mongo]
AT = datetime(2026, 2, 1, tzinfo=UTC)


def _mailbox(member: str) -> list:
    mailbox = f"mb-{member}"
    connected = MailboxConnected(
        event_id=f"c-{member}",
        workspace_id="ws",
        mailbox_id=mailbox,
        member_id=member,
        owner_addresses=(f"{member}@ours.com",),
        source="archive",
        connected_at=AT,
    )
    events = [connected]
    keys = ["shared", f"{member}-1", f"{member}-2"]
    for day, key in enumerate(keys):
        events.append(
            MessageSynced(
                event_id=f"{mailbox}-{key}",
                workspace_id="ws",
                mailbox_id=mailbox,
                member_id=member,
                mailbox_owner_addresses=(f"{member}@ours.com",),
                message_key=key,
                thread_key=key,
                subject=f"about {key}",
                sent_at=AT + timedelta(days=day),
                direction="sent",
                participants=(
                    MessageParticipant(role="from", address=f"{member}@ours.com"),
                    MessageParticipant(role="to", address="bob@acme.com"),
                ),
            )
        )
        events.append(
            InteractionResolved(
                event_id=f"r-{mailbox}-{key}",
                workspace_id="ws",
                interaction_key=key,
                kind="email",
                mailbox_id=mailbox,
                member_id=member,
                occurred_at=AT + timedelta(days=day),
                direction="sent",
                participant_count=2,
                records=(InteractionRecord(record_id="bob", record_kind="person", role="to"),),
            )
        )
    return events


async def _projections(database) -> dict[str, list]:
    return {
        name: [d async for d in database[name].find({}).sort("_id", 1)]
        for name in ("mailboxes", "messages", "record_messages", "calendar_events", "record_events")
    }


async def test_a_removed_mailbox_leaves_access_as_if_it_never_synced(mongo_uri) -> None:
    client = mongo_client(mongo_uri, "access-removal-test")
    try:
        removed = client[f"access_removed_{uuid.uuid4().hex[:8]}"]
        never = client[f"access_never_{uuid.uuid4().hex[:8]}"]
        store = AccessStore(removed)
        await store.ensure_indexes()
        await store.apply(_mailbox("alice") + _mailbox("ben"))
        state = await store.load_state("ws")
        shown = state.record_emails("alice", "bob", None, 50)
        assert {v.message_key for _, v in shown} == {
            "shared",
            "alice-1",
            "alice-2",
            "ben-1",
            "ben-2",
        }
        await store.apply(
            [
                MailboxRemoved(
                    event_id="rm",
                    workspace_id="ws",
                    mailbox_id="mb-ben",
                    member_id="ben",
                    removed_at=AT,
                )
            ]
        )
        alone = AccessStore(never)
        await alone.ensure_indexes()
        await alone.apply(_mailbox("alice"))
        assert await _projections(removed) == await _projections(never)
        state = await store.load_state("ws")
        shown = state.record_emails("alice", "bob", None, 50)
        assert {v.message_key for _, v in shown} == {"shared", "alice-1", "alice-2"}
    finally:
        await client.close()
