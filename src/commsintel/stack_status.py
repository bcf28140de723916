"""`commsintel status` and `commsintel doctor`: what the stack holds and whether each part
answers, read from Kafka, MongoDB and the gRPC health services."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from commsintel.contracts import topics
from commsintel.dead_letter_admin import read_dead_letters

CONNECT_SECONDS = 10.0


@dataclass
class GroupLag:
    group: str
    topic: str
    committed: int
    end: int

    @property
    def lag(self) -> int:
        return self.end - self.committed


@dataclass
class StackStatus:
    topics: dict[str, int] = field(default_factory=dict)  # records now on each topic
    lags: list[GroupLag] = field(default_factory=list)
    mailboxes: Counter = field(default_factory=Counter)  # (source, state) -> count
    dead_letters: dict[str, tuple[int, int]] = field(default_factory=dict)  # dlq -> (all, redriven)


async def kafka_status(bootstrap: str, groups: dict[str, tuple[str, ...]]) -> StackStatus:
    status = StackStatus()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await asyncio.wait_for(admin.start(), CONNECT_SECONDS)
    try:
        await asyncio.wait_for(probe.start(), CONNECT_SECONDS)
        try:
            partitions = {
                topic: [TopicPartition(topic, p) for p in sorted(_partitions(probe, topic))]
                for topic in topics.ALL_TOPICS
            }
            everything = [p for ps in partitions.values() for p in ps]
            ends = await probe.end_offsets(everything)
            starts = await probe.beginning_offsets(everything)
            for topic, ps in partitions.items():
                status.topics[topic] = sum(ends[p] - starts[p] for p in ps)
            for group, group_topics in groups.items():
                wanted = [p for topic in group_topics for p in partitions.get(topic, ())]
                committed = await admin.list_consumer_group_offsets(group, partitions=wanted)
                for topic in group_topics:
                    done = 0
                    for p in partitions.get(topic, ()):
                        offset = committed.get(p)
                        done += offset.offset if offset and offset.offset >= 0 else starts[p]
                    end = sum(ends[p] for p in partitions.get(topic, ()))
                    status.lags.append(GroupLag(group, topic, done, end))
        finally:
            await probe.stop()
    finally:
        await admin.close()
    for topic in topics.ALL_TOPICS:
        letters = await read_dead_letters(bootstrap, topic)
        status.dead_letters[topics.dead_letter_topic(topic)] = (
            len(letters),
            sum(1 for letter in letters if letter.redriven),
        )
    return status


def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    return consumer.partitions_for_topic(topic) or set()


async def mailbox_states(mongo_uri: str, database: str) -> Counter:
    from pymongo import AsyncMongoClient

    client = AsyncMongoClient(mongo_uri, serverSelectionTimeoutMS=int(CONNECT_SECONDS * 1000))
    try:
        states: Counter = Counter()
        async for row in await client[database]["mailboxes"].aggregate(
            [
                {
                    "$group": {
                        "_id": {"source": "$source", "state": "$status.state"},
                        "count": {"$sum": 1},
                    }
                }
            ]
        ):
            key = row["_id"]
            states[(key.get("source") or "?", key.get("state") or "imported")] += row["count"]
        return states
    finally:
        await client.close()


def print_status(status: StackStatus) -> None:
    print("topics (records)")
    for topic, count in status.topics.items():
        print(f"  {topic:<24} {count:>8}")
    print("consumer groups (committed / end, lag)")
    for row in status.lags:
        print(f"  {row.group:<32} {row.topic:<24} {row.committed:>8} / {row.end:<8} lag {row.lag}")
    total = sum(row.lag for row in status.lags)
    print(f"  total lag {total}" + ("  (caught up)" if total == 0 else ""))
    print("mailboxes")
    if not status.mailboxes:
        print("  none")
    for (source, state), count in sorted(status.mailboxes.items()):
        print(f"  {source:<10} {state:<10} {count:>5}")
    print("dead letters")
    waiting = {t: n for t, n in status.dead_letters.items() if n[0]}
    if not waiting:
        print("  none")
    for dlq, (count, redriven) in waiting.items():
        print(f"  {dlq:<28} {count:>5}  ({redriven} redriven; `commsintel dlq list {dlq}`)")


@dataclass(frozen=True)
class Check:
    what: str
    ok: bool
    detail: str  # on failure: what to fix


async def check_grpc(service: str, target: str) -> Check:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    try:
        async with grpc.aio.insecure_channel(target) as channel:
            answer = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=3
            )
    except grpc.aio.AioRpcError as failed:
        return Check(
            f"gRPC {service} {target}",
            False,
            f"{failed.code().name}: is `commsintel run` (or `serve {service}`) running?",
        )
    serving = answer.status == health_pb2.HealthCheckResponse.SERVING
    return Check(
        f"gRPC {service} {target}",
        serving,
        "SERVING" if serving else "not ready yet (waiting for its consumer group?)",
    )


async def check_kafka(bootstrap: str) -> Check:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await asyncio.wait_for(admin.start(), CONNECT_SECONDS)
        names = set(await admin.list_topics())
    except Exception as failed:
        return Check(f"Kafka {bootstrap}", False, f"no answer ({type(failed).__name__})")
    finally:
        await admin.close()
    missing = [t for t in topics.ALL_TOPICS if t not in names]
    if missing:
        return Check(f"Kafka {bootstrap}", False, f"topics missing: {', '.join(missing)}")
    return Check(f"Kafka {bootstrap}", True, f"{len(names)} topics")


async def check_mongo(mongo_uri: str) -> Check:
    from pymongo import AsyncMongoClient

    client = AsyncMongoClient(mongo_uri, serverSelectionTimeoutMS=5000)
    try:
        await client.admin.command("ping")
    except Exception as failed:
        return Check(f"MongoDB {mongo_uri}", False, f"no answer ({type(failed).__name__})")
    finally:
        await client.close()
    return Check(f"MongoDB {mongo_uri}", True, "ping answered")


def check_key(what: str, path: Path) -> Check:
    try:
        ok = bool(path.read_text().strip())
    except OSError:
        ok = False
    return Check(
        f"{what} {path}",
        ok,
        "present" if ok else "missing or empty: restart `commsintel run` (it makes the keys)",
    )
