"""After MailboxRemoved, intelligence's projections are exactly what they would be had
that mailbox never been synced (on the real MongoDB-protocol server)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from commsintel.contracts.events import InteractionRecord, InteractionResolved, MailboxRemoved
from commsintel.intelligence.adapters.store import IntelligenceStore
from commsintel.intelligence.domain.strength import StrengthModel
from commsintel.intelligence.service_layer.handlers import IntelligenceHandlers
from commsintel.platform.mongo import mongo_client

pytestmark = [pytest.mark.mongo]
START = datetime(2026, 1, 1, tzinfo=UTC)


def _resolved(mailbox: str, member: str, key: str, day: int, direction: str, *records):
    return InteractionResolved(
        event_id=f"{mailbox}-{key}-{day}",
        workspace_id="ws",
        interaction_key=key,
        kind="email",
        mailbox_id=mailbox,
        member_id=member,
        occurred_at=START + timedelta(days=day),
        direction=direction,
        participant_count=3,
        records=tuple(
            InteractionRecord(record_id=r, record_kind="person", role="to") for r in records
        ),
    )


def _alice() -> list:
    return [
        _resolved("mb-alice", "alice", f"a{d}", d, "sent" if d % 2 else "received", "bob", "acme")
        for d in range(1, 12)
    ]


def _ben() -> list:
    # Ben shares one message with Alice and has his own thread with Bob.
    return [
        _resolved("mb-ben", "ben", "a3", 3, "received", "bob", "acme"),
        *[_resolved("mb-ben", "ben", f"b{d}", d, "sent", "bob", "eve") for d in range(2, 9)],
    ]


async def _projections(database) -> dict[str, list]:
    return {
        name: [d async for d in database[name].find({}).sort("_id", 1)]
        for name in ("interactions", "member_strengths")
    }


async def test_a_removed_mailbox_leaves_intelligence_as_if_it_never_synced(mongo_uri) -> None:
    client = mongo_client(mongo_uri, "removal-test")
    model = StrengthModel()
    try:
        with_removal = client[f"intel_removed_{uuid.uuid4().hex[:8]}"]
        never = client[f"intel_never_{uuid.uuid4().hex[:8]}"]
        removed = IntelligenceHandlers(IntelligenceStore(with_removal), model)
        alone = IntelligenceHandlers(IntelligenceStore(never), model)
        # Both mailboxes interleaved, then Ben's mailbox removed ...
        mixed = [event for pair in zip(_alice(), _ben(), strict=False) for event in pair]
        mixed += _alice()[len(_ben()) :]
        await removed.handle_batch(mixed[:9])
        await removed.handle_batch(mixed[9:])
        before = await _projections(with_removal)
        assert any(d["member_id"] == "ben" for d in before["member_strengths"])
        await removed.handle_batch(
            [
                MailboxRemoved(
                    event_id="rm",
                    workspace_id="ws",
                    mailbox_id="mb-ben",
                    member_id="ben",
                    removed_at=START + timedelta(days=30),
                )
            ]
        )
        # ... equals only Alice's mailbox, ever.
        await alone.handle_batch(_alice())
        assert await _projections(with_removal) == await _projections(never)
    finally:
        await client.close()
