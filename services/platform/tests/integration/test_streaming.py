"""The shared Kafka runtime on the real broker: poison goes to the DLQ with its reason,
the partition keeps moving, and the trace context rides in the headers."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import OutOfOrderSequenceNumber
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from commsintel.contracts.envelope import encode_event, header_map
from commsintel.contracts.events import InteractionResolved, MailboxRemoved
from commsintel.contracts.topics import INGEST_MAILBOXES, dead_letter_topic
from commsintel.pipeline import dead_lettered, ensure_topics
from commsintel.platform.streaming import EventPublisher, build_broker, subscribe_event_batches
from commsintel.platform.telemetry import configure_tracing

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
        # Garbage bytes that claim to be JSON, and header bytes that are not text: a
        # framework that decodes before our code sees them would redeliver them forever.
        await broker.publish(
            b"\x00\xff\xfe garbage \x81",
            INGEST_MAILBOXES,
            key=workspace.encode(),
            headers={
                "ce_specversion": "1.0",
                "ce_type": MailboxRemoved.TYPE,
                "content-type": "application/json",
            },
        )
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(
                INGEST_MAILBOXES,
                b"\xc3\x28",
                key=workspace.encode(),
                headers=[("ce_specversion", b"\xff\xfe"), ("content-type", b"\xc3\x28")],
            )
        finally:
            await producer.stop()
        after = _removed(workspace, 100)
        await EventPublisher(broker).publish([after])

        dead = await _dead_letters(kafka_bootstrap, workspace, expected=4)
    finally:
        await broker.stop()

    reasons = sorted(header_map(r.headers)["dlq_reason"] for r in dead)
    assert sum("not JSON" in reason for reason in reasons) == 2
    assert sum("not a CloudEvents" in reason for reason in reasons) == 1
    assert sum("cannot handle this member" in reason for reason in reasons) == 1
    assert {header_map(r.headers)["dlq_source_topic"] for r in dead} == {INGEST_MAILBOXES}
    # Every good event, including the one behind the poison, was handled.
    assert set(handled) == {e.event_id for e in [*good, after]}
    # And the operator's count of dead letters shows them.
    assert (await dead_lettered(kafka_bootstrap))[dead_letter_topic(INGEST_MAILBOXES)] >= 4


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


def _resolved(workspace: str, index: int) -> InteractionResolved:
    return InteractionResolved(
        event_id=f"{workspace}-r{index}",
        workspace_id=workspace,
        interaction_key=f"m{index}",
        kind="email",
        mailbox_id="mb",
        member_id="alice",
        occurred_at=datetime.now(UTC),
        direction="sent",
        participant_count=2,
        records=(),
    )


async def test_one_consumer_of_a_group_handles_all_inputs_of_a_workspace(
    kafka_bootstrap: str,
) -> None:
    """Two instances of a service reading two topics (same partition count, keyed by
    workspace): every workspace's events from both topics reach the same instance (a
    single writer per workspace). Topics of its own, so no other test's backlog is read."""
    run = uuid.uuid4().hex[:8]
    topics = [f"colocation-{run}-mailboxes", f"colocation-{run}-interactions"]
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(t, num_partitions=3, replication_factor=1) for t in topics]
        )
    finally:
        await admin.close()
    seen: dict[str, set[tuple[str, str]]] = {"first": set(), "second": set()}
    expected: set[str] = set()
    all_measured_seen = asyncio.Event()

    def recorder(instance: str):
        async def handle(events) -> None:
            for event in events:
                seen[instance].add((event.workspace_id, event.event_id))
            handled = {event_id for found in seen.values() for _, event_id in found}
            if expected and expected <= handled:
                all_measured_seen.set()

        return handle

    async def publish(broker, topic: str, events) -> None:
        for event in events:
            record = encode_event(event)
            await broker.publish(record.value, topic, key=record.key, headers=record.headers)

    brokers = []
    for instance in seen:
        broker = build_broker(kafka_bootstrap, configure_tracing(f"colocation-{run}"), instance)
        subscribe_event_batches(broker, topics, group_id=f"g-{run}", handle=recorder(instance))
        brokers.append(broker)
    try:
        async with asyncio.timeout(150):
            for broker in brokers:
                await broker.start()
            workspaces = [f"ws-{run}-{n}" for n in range(16)]
            # Warm up until both instances hold partitions (the group has settled).
            round_number = 0
            while not all(seen.values()):
                round_number += 1
                await publish(
                    brokers[0], topics[0], [_removed(w, round_number) for w in workspaces]
                )
                await asyncio.sleep(1)
            for found in seen.values():
                found.clear()
            expected.update(f"{w}-{n}" for w in workspaces for n in (1000, "r1000"))
            await publish(brokers[0], topics[0], [_removed(w, 1000) for w in workspaces])
            await publish(brokers[0], topics[1], [_resolved(w, 1000) for w in workspaces])
            await all_measured_seen.wait()
    finally:
        for broker in brokers:
            await broker.stop()

    owners: dict[str, set[str]] = {}
    for instance, found in seen.items():
        for workspace, _ in found:
            owners.setdefault(workspace, set()).add(instance)
    assert all(len(instances) == 1 for instances in owners.values()), owners
    assert {i for instances in owners.values() for i in instances} == set(seen)


async def test_a_producer_the_broker_lost_track_of_is_renewed_and_sends_again(
    kafka_bootstrap: str,
) -> None:
    # A broker restarted on its data may forget an idempotent producer's sequence; the
    # producer's sends then fail for good (OutOfOrderSequenceNumber) until it is renewed.
    await ensure_topics(kafka_bootstrap)
    workspace = f"ws-{uuid.uuid4().hex[:8]}"
    broker = build_broker(kafka_bootstrap, configure_tracing("renew-test"), "renew-test")
    await broker.start()
    try:
        publisher = EventPublisher(broker)
        await publisher.publish([_removed(workspace, 1)])
        sequences = broker.config.producer._producer.producer._txn_manager
        for partition in list(sequences._sequence_numbers):
            sequences.increment_sequence_number(partition, 7)  # out of step with the broker
        with pytest.raises(OutOfOrderSequenceNumber):
            await publisher.publish([_removed(workspace, 2)])
        # The batch is redelivered: the renewed producer sends it.
        await publisher.publish([_removed(workspace, 2)])
    finally:
        await broker.stop()
