"""A replay (books folded in memory, each document written once) ends in exactly the
documents the live handler writes batch by batch, however the batches were cut, with
re-resolutions, retractions and mailbox removals, on the real MongoDB-protocol server."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commsintel.contracts.events import (
    CompanyCreated,
    InteractionRecord,
    InteractionResolved,
    MailboxRemoved,
    PersonCreated,
)
from commsintel.intelligence.adapters.store import IntelligenceStore
from commsintel.intelligence.domain.strength import StrengthModel
from commsintel.intelligence.service_layer.handlers import IntelligenceHandlers, IntelligenceReplay
from commsintel.platform.mongo import mongo_client

pytestmark = [pytest.mark.mongo]
START = datetime(2025, 12, 1, 9, 30, 0, 123_456, tzinfo=UTC)
MAILBOXES = {"mb-a": "alice", "mb-b": "ben"}
MODEL = StrengthModel()


@st.composite
def histories(draw) -> list:
    events = []
    for number in range(draw(st.integers(1, 30))):
        if draw(st.integers(0, 9)) == 0:
            workspace = draw(st.sampled_from(["ws-1", "ws-2"]))
            record = draw(st.sampled_from(["bob", "acme", "carol"]))
            events.append(
                CompanyCreated(
                    event_id=f"cc-{number}",
                    workspace_id=workspace,
                    company_id=record,
                    domain="acme.com",
                    name="Acme",
                )
                if record == "acme"
                else PersonCreated(
                    event_id=f"pc-{number}",
                    workspace_id=workspace,
                    person_id=record,
                    address=f"{record}@acme.com",
                    display_name=record,
                    created_because="sent to",
                )
            )
            continue
        if draw(st.integers(0, 14)) == 0:
            mailbox = draw(st.sampled_from(sorted(MAILBOXES)))
            events.append(
                MailboxRemoved(
                    event_id=f"rm-{number}",
                    workspace_id=draw(st.sampled_from(["ws-1", "ws-2"])),
                    mailbox_id=mailbox,
                    member_id=MAILBOXES[mailbox],
                    removed_at=START,
                )
            )
            continue
        mailbox = draw(st.sampled_from(sorted(MAILBOXES)))
        records = draw(st.frozensets(st.sampled_from(["bob", "acme", "carol"]), max_size=3))
        events.append(
            InteractionResolved(
                event_id=f"ev-{number}",
                workspace_id=draw(st.sampled_from(["ws-1", "ws-2"])),
                interaction_key=f"m{draw(st.integers(0, 8))}",  # repeats: re-resolutions
                kind=draw(st.sampled_from(["email", "calendar"])),
                mailbox_id=mailbox,
                member_id=MAILBOXES[mailbox],
                occurred_at=START + timedelta(days=draw(st.integers(-40, 40))),
                direction=draw(st.sampled_from(["sent", "received"])),
                participant_count=draw(st.integers(2, 14)),
                records=tuple(
                    InteractionRecord(record_id=r, record_kind="person", role="to")
                    for r in sorted(records)
                ),
            )
        )
    return events


async def _documents(database) -> dict[str, list]:
    return {
        name: [d async for d in database[name].find({}).sort("_id", 1)]
        for name in ("interactions", "member_strengths", "records")
    }


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    history=histories(),
    cuts=st.lists(st.integers(1, 30), max_size=4),
    memory=st.integers(1, 60),
)
async def test_a_replay_writes_the_documents_live_batches_write(
    mongo_uri, history, cuts, memory
) -> None:
    client = mongo_client(mongo_uri, "replay-equals-live")
    live_db = client[f"intel_live_{uuid.uuid4().hex[:8]}"]
    replay_db = client[f"intel_replay_{uuid.uuid4().hex[:8]}"]
    try:
        live_store = IntelligenceStore(live_db)
        await live_store.ensure_indexes()
        live = IntelligenceHandlers(live_store, MODEL)
        bounds = [0, *sorted(c for c in cuts if c < len(history)), len(history)]
        for start, end in itertools.pairwise(bounds):
            if end > start:
                await live.handle_batch(history[start:end])
        # A replay that may run out of memory budget midway (then it goes on live).
        replay = IntelligenceReplay(IntelligenceStore(replay_db), MODEL, max_interactions=memory)
        for start in range(0, len(history), 7):
            await replay.handle_batch(history[start : start + 7])
        await replay.finish()
        assert await _documents(replay_db) == await _documents(live_db)
    finally:
        await client.drop_database(live_db.name)
        await client.drop_database(replay_db.name)
        await client.close()
