"""The AccessProjections port: the MongoDB store and the in-memory fake save what the one
fold decides and load it back. Random histories of two workspaces, written to each in
batches cut anywhere, load back into the same state, and every view of it matches the
reference model."""

from __future__ import annotations

import itertools
import uuid

import pytest
from histories import EVERY_KIND, Reference, check_views, events_of, fold, histories, snapshot
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from commsintel.access.adapters.store import AccessStore
from commsintel.platform.mongo import mongo_client
from tests.support.access_memory_store import InMemoryAccessStore

pytestmark = [pytest.mark.mongo]


@pytest.fixture(scope="module")
async def client(mongo_uri):
    client = mongo_client(mongo_uri, "access-store-test")
    yield client
    await client.close()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.parametrize("kind", ["mongodb", "in-memory"])
@given(history=histories, cuts=st.lists(st.integers(0, 80), max_size=6))
@example(history=EVERY_KIND, cuts=[3, 9, 17])
async def test_the_store_loads_back_what_the_fold_holds(client, kind, history, cuts) -> None:
    events = events_of(history)
    name = f"access_fold_{uuid.uuid4().hex[:10]}"
    store = AccessStore(client[name]) if kind == "mongodb" else InMemoryAccessStore()
    try:
        await store.ensure_indexes()
        # The consumer sees the history in batches of any size.
        bounds = sorted({0, len(events), *(c for c in cuts if c < len(events))})
        for start, end in itertools.pairwise(bounds):
            versions = await store.apply(events[start:end])
            assert set(versions) == {e.workspace_id for e in events[start:end]}
        folded = fold(events)
        loaded = {ws: await store.load_state(ws) for ws in folded}
        for ws in folded:
            assert snapshot(loaded[ws]) == snapshot(folded[ws]), ws
        check_views(loaded, Reference.of(history))
    finally:
        await client.drop_database(name)


@pytest.mark.parametrize("kind", ["mongodb", "in-memory"])
async def test_each_batch_raises_its_workspaces_versions_and_receipts_name_the_commands(
    client, kind
) -> None:
    events = events_of(EVERY_KIND)
    name = f"access_versions_{uuid.uuid4().hex[:10]}"
    store = AccessStore(client[name]) if kind == "mongodb" else InMemoryAccessStore()
    try:
        await store.ensure_indexes()
        # Two batches: every workspace of a batch moves up by one, the others stay.
        first, second = events[:5], events[5:]
        assert await store.apply(first) == {ws: 1 for ws in {e.workspace_id for e in first}}
        versions = await store.apply(second)
        for ws in {e.workspace_id for e in second}:
            expected = 1 + any(e.workspace_id == ws for e in first)
            assert versions[ws] == await store.version(ws) == expected
        assert await store.version("no-such-workspace") == 0
        # Receipts: the access.grants commands applied, nothing else.
        for event in events:
            assert await store.has_receipt(event.event_id) == (event.TOPIC == "access.grants")
    finally:
        if kind == "mongodb":
            await client.drop_database(name)
