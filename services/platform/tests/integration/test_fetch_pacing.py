"""An idle consumer does not spin against a broker that answers empty fetches at once
(the local Kafka stand-in does): with the pacing every service and replay installs, it
asks at most about once per floor, and a record that arrives still reaches it."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.consumer.fetcher import Fetcher

from commsintel.platform.fetch_pacing import (
    EMPTY_FETCH_FLOOR_SECONDS,
    IDLE_AFTER_EMPTY_FETCHES,
    IDLE_FETCH_FLOOR_SECONDS,
    pace_empty_fetches,
)

pytestmark = [pytest.mark.kafka]
IDLE_SECONDS = 1.0


@pytest.fixture
def fetches(monkeypatch) -> list[int]:
    """Counts the fetch requests this process's consumers send."""
    pace_empty_fetches()
    paced = Fetcher._proc_fetch_request
    count = [0]

    async def counted(self, *arguments):
        count[0] += 1
        return await paced(self, *arguments)

    monkeypatch.setattr(Fetcher, "_proc_fetch_request", counted)
    return count


async def test_an_idle_consumer_fetches_about_once_per_floor(kafka_bootstrap, fetches) -> None:
    topic = f"pacing-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"pacing-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1_000,
    )
    try:
        await producer.send_and_wait(topic, b"first")
        await consumer.start()
        first = await consumer.getmany(timeout_ms=30_000)
        assert [r.value for records in first.values() for r in records] == [b"first"]

        fetches[0] = 0
        await asyncio.sleep(IDLE_SECONDS)  # nothing to read
        # Unpaced, the stand-in answered ~5,500 empty fetches a second; a broker that
        # holds a fetch for fetch_max_wait_ms (500 ms) sees two or three.
        assert fetches[0] <= 1.5 * IDLE_SECONDS / EMPTY_FETCH_FLOOR_SECONDS

        # Idle for longer, it asks less often still
        await asyncio.sleep(IDLE_AFTER_EMPTY_FETCHES * EMPTY_FETCH_FLOOR_SECONDS)
        fetches[0] = 0
        await asyncio.sleep(IDLE_SECONDS)
        assert fetches[0] <= 1.5 * IDLE_SECONDS / IDLE_FETCH_FLOOR_SECONDS

        # and what arrives then still reaches it, and the next empty fetches are paced
        # at the short floor again
        await producer.send_and_wait(topic, b"second")
        second = await consumer.getmany(timeout_ms=30_000)
        assert [r.value for records in second.values() for r in records] == [b"second"]
        fetches[0] = 0
        await asyncio.sleep(IDLE_SECONDS)
        assert fetches[0] > 1.5 * IDLE_SECONDS / IDLE_FETCH_FLOOR_SECONDS
    finally:
        await consumer.stop()
        await producer.stop()
