"""`commsintel replay <service>`: drop a service's projections and rebuild them by reading
its input topics from the start, merged the way the live consumer merges them.

Stop the service first (its consumer group must not write at the same time). Output events
are not published again by default: downstream already has them, and every id is derived,
so a replay produces the same ones (the tests compare them).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from commsintel.contracts.envelope import PoisonMessage, decode_event, header_map
from commsintel.contracts.events import Event
from commsintel.local_stack import bootstrap_of
from commsintel.platform.collector import collector_paced_for_large_heaps
from commsintel.platform.fetch_pacing import pace_empty_fetches

BATCH_RECORDS = 1000
# The services that keep projections (ingest's state is the system's input, not a fold).
REPLAYABLE = ("identity-resolution", "intelligence", "access")


@dataclass
class ReplayProgress:
    records: int = 0
    total: int = 0
    poison_skipped: int = 0
    seconds: float = 0.0
    writing: bool = False  # everything read; a handler that writes at the end is writing


class DiscardingPublisher:
    """Counts what a replay would publish, and keeps it when asked (for comparisons)."""

    def __init__(self, keep: bool = False) -> None:
        self.kept: list[Event] = []
        self.count = 0
        self._keep = keep

    async def publish(self, events) -> int:
        batch = list(events)
        self.count += len(batch)
        if self._keep:
            self.kept.extend(batch)
        return len(batch)


async def assign_from_start(
    consumer: AIOKafkaConsumer, topics: Sequence[str]
) -> tuple[list[TopicPartition], dict[TopicPartition, int]]:
    """Every partition of `topics` assigned to a started consumer, positioned at the
    start; returns them and their end offsets as of now."""
    partitions = [
        TopicPartition(topic, partition)
        for topic in topics
        for partition in sorted(consumer.partitions_for_topic(topic) or ())
    ]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    return partitions, await consumer.end_offsets(partitions)


async def read_topics(
    bootstrap: str, topics: Sequence[str], progress: ReplayProgress
) -> AsyncIterator[list[Event]]:
    """Every event now on `topics`, from the start to the end as of the call, in batches,
    in one order across partitions: each partition's order kept, partitions merged by
    record timestamp (a record is released only once every unfinished partition has a
    record buffered, so a slow fetch cannot reorder them)."""
    pace_empty_fetches()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        partitions, ends = await assign_from_start(consumer, topics)
        starts = await consumer.beginning_offsets(partitions)
        progress.total = sum(ends[p] - starts[p] for p in partitions)
        unfinished = {p for p in partitions if ends[p] > starts[p]}
        buffers: dict[TopicPartition, deque] = {p: deque() for p in unfinished}
        while unfinished:
            starving = [p for p in unfinished if not buffers[p]]
            if starving:
                fetched = await consumer.getmany(
                    *starving, timeout_ms=1000, max_records=BATCH_RECORDS
                )
                for partition, records in fetched.items():
                    buffers[partition].extend(r for r in records if r.offset < ends[partition])
            released = []
            while (
                len(released) < BATCH_RECORDS and unfinished and all(buffers[p] for p in unfinished)
            ):
                head = min(
                    unfinished, key=lambda p: (buffers[p][0].timestamp, p.topic, p.partition)
                )
                record = buffers[head].popleft()
                released.append(record)
                if record.offset + 1 >= ends[head]:
                    unfinished.discard(head)
            events = []
            for record in released:
                try:
                    events.append(decode_event(header_map(record.headers or ()), record.value))
                except PoisonMessage:
                    progress.poison_skipped += 1  # dead-lettered when it was live
            progress.records += len(released)
            if events:
                yield events
    finally:
        await consumer.stop()


async def replay(
    *,
    bootstrap: str,
    topics: Sequence[str],
    handle: Callable[[Sequence[Event]], Awaitable[None]],
    on_progress: Callable[[ReplayProgress], None] = lambda progress: None,
    finish: Callable[[], Awaitable[None]] | None = None,
) -> ReplayProgress:
    """`finish`: called after the last batch, for a handler that writes at the end."""
    progress = ReplayProgress()
    started = time.perf_counter()
    with collector_paced_for_large_heaps():
        async for events in read_topics(bootstrap, topics, progress):
            await handle(events)
            progress.seconds = time.perf_counter() - started
            on_progress(progress)
        if finish is not None:
            progress.writing = True
            on_progress(progress)
            await finish()
    progress.seconds = time.perf_counter() - started
    return progress


async def replay_service(
    service: str,
    *,
    publisher: DiscardingPublisher | None = None,
    on_progress: Callable[[ReplayProgress], None] = lambda progress: None,
    settings=None,
) -> ReplayProgress:
    """Drop `service`'s database and rebuild it from its input topics, with the handlers
    its own `bootstrap.build_replay` wires (`settings`: default, from the environment)."""
    if service not in REPLAYABLE:
        raise ValueError(f"{service} keeps no projections to replay")
    bootstrap = bootstrap_of(service)
    rebuild = bootstrap.build_replay(settings, publisher or DiscardingPublisher())
    try:
        await rebuild.prepare()
        return await replay(
            bootstrap=rebuild.kafka_bootstrap,
            topics=rebuild.topics,
            handle=rebuild.handle,
            on_progress=on_progress,
            finish=rebuild.finish,
        )
    finally:
        await rebuild.close()
