"""The Kafka side every service shares: an idempotent producer of events, and a batch
consumer that decodes envelopes, hands typed events to a service's handler, commits only
after the handler returns, and sends poison records to `<topic>.dlq` with the reason.

Consumers are static group members when given an instance id (docs/decisions/0022): a
restarted instance takes its own place back at once, on a real broker and on the local
stand-in, which never expires a killed member's session."""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence

from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from opentelemetry.sdk.trace import TracerProvider
from pymongo.errors import ConnectionFailure, PyMongoError

from commsintel.contracts.envelope import PoisonMessage, decode_event, encode_event, header_map
from commsintel.contracts.errors import ResourceExhausted
from commsintel.contracts.events import Event
from commsintel.contracts.fetch_pacing import pace_empty_fetches
from commsintel.contracts.topics import dead_letter_topic

log = logging.getLogger(__name__)

# Infrastructure trouble: the batch is redelivered (never dead-lettered) once it passes.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionFailure,
    KafkaError,
    OSError,
    TimeoutError,
)
# A store error that passes by itself: a transaction that met another (a killed
# instance's transaction holds its documents until the server aborts it), a commit whose
# outcome is unknown, a write the server asks to retry.
TRANSIENT_STORE_LABELS = ("TransientTransactionError", "UnknownTransactionCommitResult")
TRANSIENT_STORE_CODES = frozenset({112, 251, 24, 50, 189, 91, 11600, 11602, 10107, 13435})
HANDLER_ATTEMPTS = 3
REDELIVERY_PAUSE_SECONDS = 1.0

EventBatchHandler = Callable[[Sequence[Event]], Awaitable[None]]
# Below the producer's and the broker's 1 MiB default, headers included.
MAX_EVENT_BYTES = 900_000


def build_broker(bootstrap: str, tracer_provider: TracerProvider, client_id: str) -> KafkaBroker:
    pace_empty_fetches()
    return KafkaBroker(
        bootstrap,
        client_id=client_id,
        # An event counts as sent once every in-sync replica has it, and a retried send
        # is never written twice: only then may the input's offset be committed.
        acks="all",
        enable_idempotence=True,
        middlewares=[KafkaTelemetryMiddleware(tracer_provider=tracer_provider)],
        logger=logging.getLogger(f"commsintel.{client_id}.kafka"),
    )


class EventPublisher:
    def __init__(self, broker: KafkaBroker) -> None:
        self._broker = broker

    async def publish(self, events: Iterable[Event]) -> int:
        """Send in order and wait until the broker has every one of them."""
        pending = []
        records = [encode_event(event) for event in events]
        # Refused before anything is sent: a command too large for Kafka is the caller's
        # RESOURCE_EXHAUSTED, not the producer's MessageSizeTooLargeError.
        if any(len(record.value) > MAX_EVENT_BYTES for record in records):
            raise ResourceExhausted("the change is too large to record")
        for record in records:
            pending.append(
                await self._broker.publish(
                    record.value,
                    record.topic,
                    key=record.key,
                    headers=record.headers,
                    no_confirm=True,
                )
            )
        if pending:
            await asyncio.gather(*pending)
        return len(pending)


class DeadLetters:
    def __init__(self, broker: KafkaBroker) -> None:
        self._broker = broker

    async def send(self, record, reason: str) -> None:  # record: aiokafka ConsumerRecord
        headers = header_map(record.headers or ())
        headers.update(
            {
                "dlq_reason": reason[:4000],
                "dlq_source_topic": record.topic,
                "dlq_source_partition": str(record.partition),
                "dlq_source_offset": str(record.offset),
            }
        )
        log.error(
            "dead-lettered %s[%s]@%s: %s", record.topic, record.partition, record.offset, reason
        )
        await self._broker.publish(
            record.value or b"", dead_letter_topic(record.topic), key=record.key, headers=headers
        )


class GroupMembership(ConsumerRebalanceListener):
    """What a service's consumer holds of its group: readiness waits for the first
    assignment (an empty one too: more instances than partitions is a normal state)."""

    def __init__(self, group_id: str) -> None:
        self.group_id = group_id
        self.assigned = asyncio.Event()
        self.partitions: frozenset[tuple[str, int]] = frozenset()

    async def on_partitions_revoked(self, revoked) -> None:
        self.partitions = frozenset()

    async def on_partitions_assigned(self, assigned) -> None:
        self.partitions = frozenset((p.topic, p.partition) for p in assigned)
        if not self.assigned.is_set():
            log.info("group %s assigned %d partitions", self.group_id, len(self.partitions))
        self.assigned.set()


def subscribe_event_batches(
    broker: KafkaBroker,
    topics: Sequence[str],
    *,
    group_id: str,
    handle: EventBatchHandler,
    max_records: int = 500,
    batch_wait_ms: int = 20,
    instance_id: str | None = None,
) -> GroupMembership:
    """Register one batch subscriber for `topics` that feeds decoded events to `handle`.

    `handle` must be idempotent (it sees a batch again after a crash or a transient error).
    With an `instance_id`, the consumer is a static member of its group.
    """
    dead_letters = DeadLetters(broker)
    membership = GroupMembership(group_id)

    @broker.subscriber(
        *topics,
        group_id=group_id,
        batch=True,
        max_records=max_records,
        # How long a fetch waits to fill a batch: short, so a lone message is handled at
        # once (real time); under load batches fill up anyway.
        batch_timeout_ms=batch_wait_ms,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1_000,
        # Range gives partition p of every input topic to the same consumer (the topics
        # have the same partition count and are keyed by workspace), so one consumer
        # handles all of a workspace's inputs: a single writer per workspace (test in
        # tests/integration/test_streaming.py). Only one strategy: the local broker
        # stand-in fails a two-member group that offers two (docs/decisions/0017).
        partition_assignment_strategy=(RangePartitionAssignor,),
        group_instance_id=instance_id,
        listener=membership,
        # The records go to `consume_batch` as they are: the envelope is decoded there,
        # where a record that is no event goes to the dead-letter topic. FastStream's own
        # parsing would fail on header bytes that are not UTF-8 and its JSON decoding on
        # a value that is not JSON, before our code runs, and redeliver the batch forever.
        parser=_batch_with_tolerant_headers,
        decoder=_undecoded,
        title=f"{group_id}:{','.join(topics)}",
    )
    async def consume_batch(message: KafkaMessage) -> None:
        records = message.raw_message
        if not isinstance(records, tuple):
            records = (records,)
        decoded = []
        records = interleave_by_time(records)
        for record in records:
            try:
                decoded.append(
                    (record, decode_event(header_map(record.headers or ()), record.value))
                )
            except PoisonMessage as poison:
                await dead_letters.send(record, str(poison))
        await _handle_isolating_poison(decoded, handle, dead_letters)

    return membership


async def _batch_with_tolerant_headers(records, parse):
    """FastStream's batch parser, given header values it can decode; the message keeps
    the records as they came (their bytes are what `header_map` and the DLQ read)."""
    batch = records if isinstance(records, tuple) else (records,)
    readable = tuple(
        dataclasses.replace(
            record,
            headers=[
                (name, value if _is_text(value) else b"") for name, value in record.headers or ()
            ],
        )
        for record in batch
    )
    message = await parse(readable if isinstance(records, tuple) else readable[0])
    message.raw_message = records
    return message


def _is_text(value: bytes | None) -> bool:
    try:
        (value or b"").decode()
    except UnicodeDecodeError:
        return False
    return True


def _undecoded(message) -> None:
    return None


def interleave_by_time(records) -> list:
    """One sequence from a batch that spans several topics and partitions: each
    partition's order is kept, and the partitions are merged by record timestamp, so a
    workspace's inputs from different topics are handled in the order they were written
    (a replay merges the same way)."""
    by_partition: dict[tuple[str, int], list] = {}
    for record in records:
        by_partition.setdefault((record.topic, record.partition), []).append(record)
    if len(by_partition) == 1:
        return list(records)
    streams = [by_partition[key] for key in sorted(by_partition)]
    return list(heapq.merge(*streams, key=lambda record: record.timestamp))


def is_transient(error: BaseException) -> bool:
    """Infrastructure trouble that passes: the batch is redelivered, never dead-lettered."""
    if isinstance(error, TRANSIENT_ERRORS):
        return True
    if isinstance(error, PyMongoError):
        code = getattr(error, "code", None)
        return code in TRANSIENT_STORE_CODES or any(
            error.has_error_label(label) for label in TRANSIENT_STORE_LABELS
        )
    return False


async def _handle_isolating_poison(decoded, handle: EventBatchHandler, dead_letters) -> None:
    if not decoded:
        return
    try:
        await handle([event for _, event in decoded])
        return
    except Exception as error:
        if is_transient(error):
            log.warning("batch of %d redelivered after %r", len(decoded), error)
            await asyncio.sleep(REDELIVERY_PAUSE_SECONDS)
            raise
        log.exception("batch of %d failed; retrying event by event", len(decoded))
    # One bad event must not hold up its partition: retry each alone, dead-letter the
    # ones that keep failing. Handlers are idempotent, so redoing the good ones is safe.
    for record, event in decoded:
        failure: Exception | None = None
        for _ in range(HANDLER_ATTEMPTS):
            try:
                await handle([event])
                failure = None
                break
            except Exception as error:
                if is_transient(error):
                    await asyncio.sleep(REDELIVERY_PAUSE_SECONDS)
                    raise
                failure = error
        if failure is not None:
            await dead_letters.send(record, f"handler failed {HANDLER_ATTEMPTS} times: {failure!r}")
