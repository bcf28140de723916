"""The Kafka side every service shares: an idempotent producer of events, and a batch
consumer that decodes envelopes, hands typed events to a service's handler, commits only
after the handler returns, and sends poison records to `<topic>.dlq` with the reason.

Consumers are static group members when given an instance id (docs/decisions/0022): a
restarted instance takes its own place back at once, on a real broker and on the local
stand-in, which never expires a killed member's session."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import dataclasses
import heapq
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager

from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.client import AIOKafkaClient, CoordinationType
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import (
    InvalidProducerEpoch,
    InvalidProducerIdMapping,
    KafkaError,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    UnknownProducerId,
)
from aiokafka.protocol.group import LeaveGroupRequest
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from pymongo.errors import ConnectionFailure, PyMongoError

from commsintel.contracts.envelope import PoisonMessage, decode_event, encode_event, header_map
from commsintel.contracts.errors import TooLarge
from commsintel.contracts.events import Event
from commsintel.contracts.topics import dead_letter_topic
from commsintel.platform.fetch_pacing import pace_empty_fetches
from commsintel.platform.group_joins import rejoin_on_missing_assignment
from commsintel.platform.metrics import (
    CONSUMER_GROUP,
    DESTINATION,
    ERROR_TYPE,
    EVENT_TYPE,
    INSTRUMENTS,
    MESSAGING_SYSTEM,
    PARTITION,
    configure_metrics,
    observe,
)
from commsintel.platform.telemetry import extract_trace_context

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


_tracer_providers: weakref.WeakKeyDictionary[KafkaBroker, TracerProvider] = (
    weakref.WeakKeyDictionary()
)


def build_broker(
    bootstrap: str, tracer_provider: TracerProvider, client_id: str, instance_id: str = ""
) -> KafkaBroker:
    """With `instance_id`, the client id is `client_id@instance_id`: how the group's
    members are told apart (remove_static_member)."""
    pace_empty_fetches()
    rejoin_on_missing_assignment()
    broker = KafkaBroker(
        bootstrap,
        client_id=f"{client_id}@{instance_id}" if instance_id else client_id,
        # An event counts as sent once every in-sync replica has it, and a retried send
        # is never written twice: only then may the input's offset be committed.
        acks="all",
        enable_idempotence=True,
        middlewares=[
            KafkaTelemetryMiddleware(
                tracer_provider=tracer_provider, meter_provider=configure_metrics()
            )
        ],
        logger=logging.getLogger(f"commsintel.{client_id}.kafka"),
    )
    _tracer_providers[broker] = tracer_provider
    return broker


# The broker no longer knows this idempotent producer's sequence (a broker restarted on
# its data can forget it): aiokafka's sender then fails every send for good. A producer
# started anew gets a new producer id and sends again.
PRODUCER_STATE_ERRORS = (
    OutOfOrderSequenceNumber,
    UnknownProducerId,
    InvalidProducerEpoch,
    InvalidProducerIdMapping,
    ProducerFenced,
)


@asynccontextmanager
async def producer_renewed_on_lost_state(broker: KafkaBroker) -> AsyncIterator[None]:
    """Sends in the block that meet a producer the broker has lost renew the producer
    and raise on (a KafkaError: the batch is redelivered and sent by the new one)."""
    try:
        yield
    except PRODUCER_STATE_ERRORS as error:
        log.warning("producer renewed after %r", error)
        await _renew_producer(broker)
        raise


async def _renew_producer(broker: KafkaBroker) -> None:
    config = broker.config
    async with _renewing.setdefault(broker, asyncio.Lock()):
        await config.producer.disconnect()
        await config.admin.disconnect()
        # What FastStream's own start does: a new producer (and admin client) from the
        # broker's connection settings.
        await config.connect(**broker._connection_kwargs)


_renewing: weakref.WeakKeyDictionary[KafkaBroker, asyncio.Lock] = weakref.WeakKeyDictionary()


class EventPublisher:
    def __init__(self, broker: KafkaBroker) -> None:
        self._broker = broker
        self._tracer = trace.get_tracer(
            "commsintel.streaming", tracer_provider=_tracer_providers.get(broker)
        )

    async def publish(self, events: Iterable[Event]) -> int:
        """Send in order and wait until the broker has every one of them."""
        async with producer_renewed_on_lost_state(self._broker):
            return await self._publish(events)

    async def _publish(self, events: Iterable[Event]) -> int:
        pending = []
        events = list(events)
        records = [encode_event(event) for event in events]
        # Refused before anything is sent: a command too large for Kafka is the caller's
        # RESOURCE_EXHAUSTED, not the producer's MessageSizeTooLargeError.
        if any(len(record.value) > MAX_EVENT_BYTES for record in records):
            raise TooLarge("the change is too large to record")
        for event, record in zip(events, records, strict=True):
            with _in_journey_of(event, self._tracer):
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
        INSTRUMENTS.dead_letters.add(1, {MESSAGING_SYSTEM: "kafka", DESTINATION: record.topic})
        async with producer_renewed_on_lost_state(self._broker):
            await self._broker.publish(
                record.value or b"",
                dead_letter_topic(record.topic),
                key=record.key,
                headers=headers,
            )


PartitionsChanged = Callable[[frozenset[int]], Awaitable[None]]


class GroupMembership(ConsumerRebalanceListener):
    """What a service's consumer holds of its group: readiness waits for the first
    assignment (an empty one too: more instances than partitions is a normal state).
    It also reports the consumer's lag per partition as a metric, and tells
    `on_assigned`/`on_revoked` which partition numbers this instance gained or lost: the
    consumer rejoins its group only once `on_revoked` has returned."""

    def __init__(
        self,
        group_id: str,
        on_assigned: PartitionsChanged | None = None,
        on_revoked: PartitionsChanged | None = None,
    ) -> None:
        self.group_id = group_id
        self.assigned = asyncio.Event()
        self.subscriber = None  # FastStream's subscriber; its `consumer` once started
        self._on_assigned = on_assigned
        self._on_revoked = on_revoked

    async def on_partitions_revoked(self, revoked) -> None:
        if self._on_revoked is not None:
            await self._on_revoked(frozenset(tp.partition for tp in revoked))

    async def on_partitions_assigned(self, assigned) -> None:
        if not self.assigned.is_set():
            log.info("group %s assigned %d partitions", self.group_id, len(assigned))
        if self._on_assigned is not None:
            await self._on_assigned(frozenset(tp.partition for tp in assigned))
        self.assigned.set()

    def lag(self) -> Iterator[tuple[float, dict]]:
        """Per assigned partition: the broker's end offset (as of the last fetch) minus
        the consumer's position. Commits follow each handled batch, so the position is
        at most one batch ahead of the committed offset."""
        consumer = getattr(self.subscriber, "consumer", None)
        if consumer is None:
            return
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            state = consumer._subscription.subscription.assignment.state_value(tp)
            if highwater is None or state is None or not state.has_valid_position:
                continue
            yield (
                max(0, highwater - state.position),
                {
                    MESSAGING_SYSTEM: "kafka",
                    CONSUMER_GROUP: self.group_id,
                    DESTINATION: tp.topic,
                    PARTITION: str(tp.partition),
                },
            )


async def remove_static_member(bootstrap: str, group_id: str, instance_id: str) -> int:
    """Takes a static member that is gone for good out of its group now (an instance
    scaled away, a host lost), so the others take over its partitions at once instead of
    after the session timeout; the local broker stand-in never expires one at all
    (docs/decisions/0027). The member is found by its client id (`service@instance_id`,
    build_broker). Returns how many members were removed (0: none by that id)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    await admin.start()
    await client.bootstrap()
    try:
        described = await admin.describe_consumer_groups([group_id])
        members = [
            member[0]
            for answer in described
            for group in answer.groups
            for member in group[5]
            if str(member[1]).endswith(f"@{instance_id}")
        ]
        if not members:
            return 0
        coordinator = await client.coordinator_lookup(CoordinationType.GROUP, group_id)
        for member_id in members:
            answer = await client.send(coordinator, LeaveGroupRequest(group_id, member_id))
            if answer.error_code:
                raise KafkaError(f"LeaveGroup for {instance_id} failed: {answer.error_code}")
        return len(members)
    finally:
        await client.close()
        await admin.close()


JOURNEY_SPAN = "commsintel.journey"
# The trace context of each message a consumer is handling, by the journey it belongs
# to: the events a handler publishes for that message continue its trace.
_journeys: contextvars.ContextVar[dict[tuple, otel_context.Context]] = contextvars.ContextVar(
    "commsintel_journeys"
)


def journey_key(event: Event) -> tuple | None:
    """What ties the events of one message (or calendar event) in one mailbox together
    across services: MessageSynced's message_key is InteractionResolved's
    interaction_key."""
    key = (
        getattr(event, "message_key", None)
        or getattr(event, "interaction_key", None)
        or getattr(event, "calendar_event_key", None)
    )
    mailbox = getattr(event, "mailbox_id", None)
    if not key or not mailbox:
        return None
    return (event.workspace_id, mailbox, key)


@contextlib.contextmanager
def _in_journey_of(event: Event, tracer: trace.Tracer) -> Iterator[None]:
    """Publish `event` in the trace of the message it follows from (a consumer handling
    that message publishes it): the message with the same journey, else the batch's only
    message. An event that starts a journey (ingest's MessageSynced, or identity's
    InteractionResolved redone after a merge) starts a trace of its own, rooted in a
    `commsintel.journey` span linked to whatever span is current (the sync pass, the
    import, the batch). Anything else is published in the current context."""
    journeys = _journeys.get(None) or {}
    key = journey_key(event)
    parent = journeys.get(key) if key is not None else None
    if parent is None and journeys and len(set(map(id, journeys.values()))) == 1:
        parent = next(iter(journeys.values()))
    if parent is not None:
        token = otel_context.attach(parent)
        try:
            yield
        finally:
            otel_context.detach(token)
        return
    if key is None:
        yield
        return
    current = trace.get_current_span().get_span_context()
    with tracer.start_as_current_span(
        JOURNEY_SPAN,
        context=otel_context.Context(),
        kind=trace.SpanKind.INTERNAL,
        links=[trace.Link(current)] if current.is_valid else [],
        attributes={
            DESTINATION: event.TOPIC,
            "messaging.message.id": event.event_id,
            EVENT_TYPE: event.TYPE,
        },
    ):
        yield


def _message_spans(tracer: trace.Tracer, group_id: str, decoded) -> list[trace.Span]:
    """One CONSUMER `<topic> process` span per message, in the message's own trace (from
    its `traceparent`), linked to the batch's span (which links every message)."""
    batch_span = trace.get_current_span().get_span_context()
    links = [trace.Link(batch_span)] if batch_span.is_valid else []
    spans = []
    journeys: dict[tuple, otel_context.Context] = {}
    for record, event in decoded:
        parent = extract_trace_context(header_map(record.headers or ()))
        span = tracer.start_span(
            f"{record.topic} process",
            context=parent,
            kind=trace.SpanKind.CONSUMER,
            links=links,
            attributes={
                MESSAGING_SYSTEM: "kafka",
                "messaging.operation.type": "process",
                "messaging.operation.name": "process",
                DESTINATION: record.topic,
                PARTITION: str(record.partition),
                CONSUMER_GROUP: group_id,
                "messaging.kafka.offset": record.offset,
                "messaging.message.id": event.event_id,
                EVENT_TYPE: event.TYPE,
            },
        )
        spans.append(span)
        key = journey_key(event)
        if key is not None:
            journeys[key] = trace.set_span_in_context(span, parent)
    _journeys.set(journeys)
    return spans


def subscribe_event_batches(
    broker: KafkaBroker,
    topics: Sequence[str],
    *,
    group_id: str,
    handle: EventBatchHandler,
    max_records: int = 500,
    batch_wait_ms: int = 20,
    instance_id: str | None = None,
    tracer_provider: TracerProvider | None = None,
    on_assigned: PartitionsChanged | None = None,
    on_revoked: PartitionsChanged | None = None,
) -> GroupMembership:
    """Register one batch subscriber for `topics` that feeds decoded events to `handle`.

    `handle` must be idempotent (it sees a batch again after a crash or a transient error).
    With an `instance_id`, the consumer is a static member of its group.
    """
    dead_letters = DeadLetters(broker)
    membership = GroupMembership(group_id, on_assigned, on_revoked)
    observe("commsintel.consumer.lag", membership.lag)
    tracer = trace.get_tracer("commsintel.streaming", tracer_provider=tracer_provider)

    subscriber = broker.subscriber(
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
    membership.subscriber = subscriber
    counted = {MESSAGING_SYSTEM: "kafka", CONSUMER_GROUP: group_id}

    @subscriber
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
                ce_type = header_map(record.headers or ()).get("ce_type", "unknown")
                _count(INSTRUMENTS.events_failed, record, ce_type[:100], counted, "PoisonMessage")
                await dead_letters.send(record, str(poison))
        spans = _message_spans(tracer, group_id, decoded)
        error: BaseException | None = None
        try:
            await _handle_isolating_poison(decoded, handle, dead_letters, counted)
        except BaseException as raised:
            error = raised
            raise
        finally:
            _journeys.set({})
            for span in spans:
                if error is not None:
                    span.set_attribute(ERROR_TYPE, type(error).__name__)
                    span.set_status(trace.StatusCode.ERROR)
                span.end()

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


def _count(instrument, record, event_type: str, counted: dict, error: str | None = None) -> None:
    attributes = {**counted, DESTINATION: record.topic, EVENT_TYPE: event_type}
    if error is not None:
        attributes[ERROR_TYPE] = error
    instrument.add(1, attributes)


async def _handle_isolating_poison(
    decoded, handle: EventBatchHandler, dead_letters, counted: dict | None = None
) -> None:
    if not decoded:
        return
    counted = counted or {}
    try:
        await handle([event for _, event in decoded])
        # One add per topic and type: a counter's add costs ~25 us, a batch holds 500.
        handled = collections.Counter((record.topic, event.TYPE) for record, event in decoded)
        for (topic, event_type), count in handled.items():
            INSTRUMENTS.events_handled.add(
                count, {**counted, DESTINATION: topic, EVENT_TYPE: event_type}
            )
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
            _count(INSTRUMENTS.events_failed, record, event.TYPE, counted, type(failure).__name__)
            await dead_letters.send(record, f"handler failed {HANDLER_ATTEMPTS} times: {failure!r}")
        else:
            _count(INSTRUMENTS.events_handled, record, event.TYPE, counted)
