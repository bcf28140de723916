"""The shared Kafka runtime on the real broker: poison goes to the DLQ with its reason,
the partition keeps moving, and the trace context rides in the headers."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from commsintel.contracts.envelope import header_map
from commsintel.contracts.events import MailboxRemoved
from commsintel.contracts.streaming import EventPublisher, build_broker, subscribe_event_batches
from commsintel.contracts.telemetry import configure_tracing
from commsintel.contracts.topics import INGEST_MAILBOXES, dead_letter_topic
from commsintel.pipeline import dead_lettered, ensure_topics

pytestmark = [pytest.mark.kafka]


def _removed(workspace: str, index: int, member: str = "alice") -> MailboxRemoved:
    return MailboxRemoved(
        event_id=f"{workspace}-{index}",
        workspace_id=workspace,
        mailbox_id="mb",
        member_id=member,
        removed_at=datetime.now(UTC),
    )


async def _dead_letters(bootstrap: str, workspace: str, expected: int) -> list:
    consumer = AIOKafkaConsumer(
        dead_letter_topic(INGEST_MAILBOXES),
        bootstrap_servers=bootstrap,
        group_id=f"dlq-reader-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        session_timeout_ms=10_000,
    )
    await consumer.start()
    found = []
    try:
        async with asyncio.timeout(60):
            while len(found) < expected:
                batch = await consumer.getmany(timeout_ms=500)
                found += [
                    r for records in batch.values() for r in records if r.key == workspace.encode()
                ]
    finally:
        await consumer.stop()
    return found


async def test_poison_records_go_to_the_dead_letter_topic_and_the_rest_is_handled(
    kafka_bootstrap: str,
) -> None:
    await ensure_topics(kafka_bootstrap)
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    handled: list[str] = []

    async def handle(events) -> None:
        mine = [e for e in events if e.workspace_id == workspace]
        # A handler bug that only this one event triggers.
        if any(e.member_id == "breaks-the-handler" for e in mine):
            raise ValueError("cannot handle this member")
        handled.extend(e.event_id for e in mine)

    broker = build_broker(kafka_bootstrap, configure_tracing("dlq-test"), "dlq-test")
    subscribe_event_batches(broker, [INGEST_MAILBOXES], group_id=f"g-{workspace}", handle=handle)
    await broker.start()
    try:
        good = [_removed(workspace, i) for i in range(5)]
        bad = _removed(workspace, 99, member="breaks-the-handler")
        await EventPublisher(broker).publish([*good[:2], bad, *good[2:]])
        # A record that is not an event at all.
        await broker.publish(
            b"{not json",
            INGEST_MAILBOXES,
            key=workspace.encode(),
            headers={"ce_specversion": "1.0", "ce_type": MailboxRemoved.TYPE},
        )
        after = _removed(workspace, 100)
        await EventPublisher(broker).publish([after])

        dead = await _dead_letters(kafka_bootstrap, workspace, expected=2)
    finally:
        await broker.stop()

    reasons = sorted(header_map(r.headers)["dlq_reason"] for r in dead)
    assert "not JSON" in reasons[0]
    assert "cannot handle this member" in reasons[1]
    assert {header_map(r.headers)["dlq_source_topic"] for r in dead} == {INGEST_MAILBOXES}
    # Every good event, including the one behind the poison, was handled.
    assert set(handled) == {e.event_id for e in [*good, after]}
    # And the operator's count of dead letters shows them.
    assert (await dead_lettered(kafka_bootstrap))[dead_letter_topic(INGEST_MAILBOXES)] >= 2


async def test_trace_context_travels_from_publish_to_consume(kafka_bootstrap: str) -> None:
    await ensure_topics(kafka_bootstrap)
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    exporter = InMemorySpanExporter()
    provider = configure_tracing(f"trace-test-{workspace}", exporter=exporter)
    seen = asyncio.Event()

    async def handle(events) -> None:
        if any(e.workspace_id == workspace for e in events):
            seen.set()

    broker = build_broker(kafka_bootstrap, provider, "trace-test")
    subscribe_event_batches(broker, [INGEST_MAILBOXES], group_id=f"g-{workspace}", handle=handle)
    await broker.start()
    try:
        with provider.get_tracer("test").start_as_current_span("import batch") as parent:
            await EventPublisher(broker).publish([_removed(workspace, 1)])
        await asyncio.wait_for(seen.wait(), 60)
        await asyncio.sleep(0.5)
    finally:
        await broker.stop()

    trace_id = parent.get_span_context().trace_id
    spans = exporter.get_finished_spans()
    kinds = {span.kind.name for span in spans if span.context.trace_id == trace_id}
    assert {"PRODUCER"} <= kinds
    consumer_spans = [s for s in spans if s.kind.name == "CONSUMER"]
    assert any(
        s.context.trace_id == trace_id or any(link.context.trace_id == trace_id for link in s.links)
        for s in consumer_spans
    ), "the consume span continues (or links to) the publishing trace"
