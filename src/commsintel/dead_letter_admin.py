"""`commsintel dlq list|show|redrive TOPIC`: what went to `<topic>.dlq` and why, and
sending chosen dead letters back to their topic once the cause is fixed.

A dead letter keeps the original value, key and headers plus `dlq_reason`,
`dlq_source_topic`, `dlq_source_partition` and `dlq_source_offset` (contracts'
DeadLetters). A redrive publishes the original record again (its key, its headers without
the `dlq_*` ones) and then records the fact in the dead-letter partition itself, as a
marker record naming the dead letter, so a second redrive skips it unless asked again.
Consumers' handlers are idempotent, so a record sent twice anyway does no harm.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from commsintel.contracts import topics

DLQ_HEADERS = ("dlq_reason", "dlq_source_topic", "dlq_source_partition", "dlq_source_offset")
REDRIVEN_HEADER = "dlq_redriven"  # on a marker record: "partition:offset" of the dead letter


class UnknownTopic(ValueError):
    pass


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    reason: str
    source_topic: str
    source_partition: int
    source_offset: int
    headers: tuple[tuple[str, bytes], ...]  # the original record's
    timestamp_ms: int
    redriven: bool = False

    @property
    def ref(self) -> str:
        """How the commands name it: its partition and offset in the dead-letter topic."""
        return f"{self.partition}:{self.offset}"


@dataclass
class RedriveResult:
    sent: list[DeadLetter] = field(default_factory=list)
    skipped: list[DeadLetter] = field(default_factory=list)  # redriven before


def dead_letter_topic_for(topic: str) -> str:
    """Accepts `ingest.messages` or `ingest.messages.dlq`."""
    source = topic.removesuffix(".dlq")
    if source not in topics.ALL_TOPICS:
        raise UnknownTopic(f"unknown topic {topic!r}; one of: {', '.join(topics.ALL_TOPICS)}")
    return topics.dead_letter_topic(source)


def _text(value: bytes | None) -> str:
    return (value or b"").decode("utf-8", "replace")


async def read_dead_letters(bootstrap: str, topic: str) -> list[DeadLetter]:
    """Every dead letter now on `topic`'s dead-letter topic, oldest first per partition,
    each marked when a redrive has sent it already."""
    dlq = dead_letter_topic_for(topic)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(dlq, p) for p in sorted(consumer.partitions_for_topic(dlq) or ())
        ]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        unfinished = {p for p in partitions if ends[p] > starts[p]}
        letters: list[DeadLetter] = []
        redriven: set[str] = set()
        while unfinished:
            fetched = await consumer.getmany(*unfinished, timeout_ms=1000, max_records=1000)
            for partition, records in fetched.items():
                for record in records:
                    if record.offset >= ends[partition]:
                        continue
                    headers = {name: value for name, value in record.headers or ()}
                    if REDRIVEN_HEADER in headers:
                        redriven.add(_text(headers[REDRIVEN_HEADER]))
                    else:
                        letters.append(_dead_letter(record, headers))
            # The position, not the last record: transaction markers take offsets too.
            for partition in list(unfinished):
                if await consumer.position(partition) >= ends[partition]:
                    unfinished.discard(partition)
        return [
            DeadLetter(**{**letter.__dict__, "redriven": letter.ref in redriven})
            for letter in sorted(letters, key=lambda d: (d.partition, d.offset))
        ]
    finally:
        await consumer.stop()


def _dead_letter(record, headers: dict[str, bytes]) -> DeadLetter:
    def number(name: str) -> int:
        try:
            return int(_text(headers.get(name)))
        except ValueError:
            return -1

    return DeadLetter(
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value or b"",
        reason=_text(headers.get("dlq_reason")),
        source_topic=_text(headers.get("dlq_source_topic")) or record.topic.removesuffix(".dlq"),
        source_partition=number("dlq_source_partition"),
        source_offset=number("dlq_source_offset"),
        headers=tuple(
            (name, value) for name, value in record.headers or () if name not in DLQ_HEADERS
        ),
        timestamp_ms=record.timestamp,
    )


def choose(letters: Iterable[DeadLetter], refs: Iterable[str]) -> list[DeadLetter]:
    """The dead letters named by `refs` ("partition:offset", or an offset alone when
    only one partition has it); an unknown ref is an error, not a silent skip."""
    letters = list(letters)
    chosen = []
    for ref in refs:
        if ":" in ref:
            matches = [d for d in letters if d.ref == ref]
        else:
            matches = [d for d in letters if str(d.offset) == ref]
        if len(matches) != 1:
            found = "no" if not matches else "more than one (give partition:offset)"
            raise UnknownTopic(f"{found} dead letter at {ref}")
        chosen.append(matches[0])
    return chosen


async def redrive(
    bootstrap: str,
    letters: Iterable[DeadLetter],
    *,
    again: bool = False,
    on_sent: Callable[[DeadLetter], None] = lambda letter: None,
) -> RedriveResult:
    """Publish each dead letter's original record to its topic; one redriven before is
    skipped unless `again`."""
    result = RedriveResult()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for letter in letters:
            if letter.redriven and not again:
                result.skipped.append(letter)
                continue
            await producer.send_and_wait(
                letter.source_topic, letter.value, key=letter.key, headers=list(letter.headers)
            )
            await producer.send_and_wait(
                topics.dead_letter_topic(letter.source_topic),
                b"",
                key=letter.key,
                partition=letter.partition,
                headers=[(REDRIVEN_HEADER, letter.ref.encode())],
            )
            result.sent.append(letter)
            on_sent(letter)
    finally:
        await producer.stop()
    return result
