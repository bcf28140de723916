"""What the fault tests share: a broker and a store of their own that can be stopped and
started again on the same data and ports, the four services as `commsintel serve`
processes, imports as `commsintel import` processes, and a snapshot of every projection
to compare a faulted run with a fault-free one, field by field."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pymongo import AsyncMongoClient

from commsintel.contracts import topics
from commsintel.contracts.events import EVENT_TYPES
from commsintel.embedded import LocalServer, free_port, kafka_bootstrap, local_kafka, local_mongo
from commsintel.embedded import mongo_uri as uri_of
from commsintel.ingest.adapters.crypto import encode_key, new_key
from commsintel.pipeline import SERVICES, PipelineConfig
from commsintel.sample_mailboxes import SAMPLE_WORKSPACE
from tests.support.process_pipeline import ProcessPipeline, wait_until_serving

WORKSPACE = SAMPLE_WORKSPACE.workspace_id
OWNERS = {member.member_id: member.address for member in SAMPLE_WORKSPACE.members}
CONSUMING_SERVICES = ("identity-resolution", "intelligence", "access")
# Fields written from the wall clock, counted per write, or sealed with a fresh random
# key, which differ between any two runs (fault-free ones too); all else must be equal.
VOLATILE_FIELDS = {
    "ingest": {"mailboxes": {"connected_at"}, "attachments.files": {"_id", "uploadDate"}},
    "access": {"workspaces": {"version"}},
}
# Sealed bytes (bodies, attachments' chunks, wrapped content keys) differ in every run.
SKIPPED_COLLECTIONS = {"ingest": {"contents", "content_keys", "attachments.chunks"}}
# Arrays that are sets: their order is the order batches added to them.
SET_FIELDS = {"ingest.threads": {"terms"}}
# Documents keyed by a field of theirs where their _id is random.
KEYED_BY = {"ingest.attachments.files": "filename"}


@dataclass
class Servers:
    """A broker and a store that persist to `root`, restartable on the same ports."""

    root: Path
    kafka: LocalServer = field(init=False)
    mongo: LocalServer = field(init=False)

    def __post_init__(self) -> None:
        self.kafka = local_kafka(self.root / "kafka", free_port())
        self.mongo = local_mongo(self.root / "mongo", free_port())

    def start(self) -> Servers:
        self.kafka.start()
        self.mongo.start()
        return self

    def stop(self) -> None:
        self.kafka.stop()
        self.mongo.stop()

    @property
    def bootstrap(self) -> str:
        return kafka_bootstrap(self.kafka)

    @property
    def mongo_uri(self) -> str:
        return uri_of(self.mongo)


def config_for(servers: Servers, signing_key: str) -> PipelineConfig:
    return PipelineConfig(
        kafka_bootstrap=servers.bootstrap,
        mongo_uri=servers.mongo_uri,
        signing_key=signing_key,
        identity_bind=f"127.0.0.1:{free_port()}",
        encryption_key=encode_key(new_key()),
        name="faults",
        outbound_allowed_networks="127.0.0.0/8",  # the test's Dovecot
    )


@dataclass
class ServiceProcesses:
    """The four services as processes, each killable and restartable on its own."""

    config: PipelineConfig
    log_dir: Path
    # Settings of this run's services beside the config's, e.g. {"BATCH_SIZE": "100"}.
    overrides: dict[str, str] = field(default_factory=dict)
    pipeline: ProcessPipeline = field(init=False)

    def __post_init__(self) -> None:
        self.pipeline = ProcessPipeline(self.config, self.log_dir, free_port(), free_port())
        base = self.pipeline.environment
        self.pipeline.environment = lambda: (
            base()
            | {  # type: ignore[method-assign]
                f"COMMSINTEL_{prefix}_{name}": value
                for name, value in self.overrides.items()
                for prefix in ("INGEST", "IDENTITY", "INTELLIGENCE", "ACCESS")
            }
        )

    @property
    def ports(self) -> dict[str, int]:
        return {
            "identity-resolution": int(self.config.identity_bind.rpartition(":")[2]),
            "intelligence": self.pipeline.intelligence_port,
            "access": self.pipeline.access_port,
        }

    async def start(self) -> None:
        await self.pipeline.start()
        await self.wait_ready("identity-resolution")

    def spawn(self) -> None:
        """Starts every service without waiting for any to be ready."""
        for service in SERVICES:
            self.pipeline.start_service(service)

    def kill(self, service: str) -> None:
        process = self.pipeline.processes.pop(service)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def respawn(self, service: str) -> None:
        self.pipeline.start_service(service)

    async def restart(self, service: str) -> float:
        """Starts the service again; returns the seconds until it reports ready."""
        started = time.monotonic()
        self.respawn(service)
        if service in self.ports:
            await self.wait_ready(service)
        return time.monotonic() - started

    async def wait_ready(self, service: str, timeout: float = 60.0) -> None:
        await wait_until_serving(f"127.0.0.1:{self.ports[service]}", timeout)

    def stop(self) -> None:
        self.pipeline.stop()

    def environment(self) -> dict[str, str]:
        return self.pipeline.environment()


def import_command(mailbox: Path) -> list[str]:
    member = mailbox.stem
    return [
        sys.executable,
        "-m",
        "commsintel.cli",
        "import",
        "--workspace",
        WORKSPACE,
        "--member",
        member,
        "--owner-address",
        OWNERS[member],
        str(mailbox),
    ]


async def run_import(environment: dict[str, str], mailbox: Path, log: Path) -> None:
    with log.open("ab") as output:
        process = await asyncio.create_subprocess_exec(
            *import_command(mailbox), env=environment, stdout=output, stderr=output
        )
        assert await asyncio.wait_for(process.wait(), 300) == 0, log.read_text()[-2000:]


async def kill_import_after(
    environment: dict[str, str], mailbox: Path, log: Path, seconds: float
) -> None:
    """Starts an import and kills it with SIGKILL after `seconds` (or lets it end)."""
    with log.open("ab") as output:
        process = await asyncio.create_subprocess_exec(
            *import_command(mailbox), env=environment, stdout=output, stderr=output
        )
        try:
            await asyncio.wait_for(process.wait(), seconds)
        except TimeoutError:
            process.kill()
            await process.wait()


async def snapshot(mongo_uri: str, name: str = "faults") -> dict:
    """Every projection document of every service, keyed by database and collection."""
    client = AsyncMongoClient(mongo_uri, tz_aware=True)
    try:
        found: dict = {}
        for service in ("ingest", "identity", "intelligence", "access"):
            database = client[f"{name}_{service}"]
            volatile = VOLATILE_FIELDS.get(service, {})
            for collection in sorted(await database.list_collection_names()):
                if collection in SKIPPED_COLLECTIONS.get(service, set()):
                    continue
                skip = volatile.get(collection, set())
                documents = [
                    {k: v for k, v in document.items() if k not in skip or k == "_id"}
                    async for document in database[collection].find()
                ]
                if "_id" in skip:
                    for document in documents:
                        document.pop("_id")
                for field_name in SET_FIELDS.get(f"{service}.{collection}", ()):
                    for document in documents:
                        document[field_name] = sorted(document[field_name])
                key = KEYED_BY.get(f"{service}.{collection}", "_id")
                found[f"{service}.{collection}"] = {repr(d[key]): d for d in documents}
        return found
    finally:
        await client.close()


def differences(expected: dict, actual: dict, limit: int = 12) -> list[str]:
    """Field-by-field differences, a few lines per collection, for the assertion text."""
    lines = []
    for collection in sorted(expected.keys() | actual.keys()):
        want, got = expected.get(collection, {}), actual.get(collection, {})
        missing, extra = want.keys() - got.keys(), got.keys() - want.keys()
        if missing or extra:
            lines.append(f"{collection}: {len(missing)} missing, {len(extra)} extra documents")
        changed = [key for key in sorted(want.keys() & got.keys()) if want[key] != got[key]]
        for key in changed[:limit]:
            fields = sorted(
                f for f in want[key].keys() | got[key].keys() if want[key].get(f) != got[key].get(f)
            )
            lines.append(f"{collection} {key[:80]}: fields {fields} differ")
        if len(changed) > limit:
            lines.append(f"{collection}: {len(changed) - limit} more documents differ")
    return lines


async def records_of(bootstrap: str, topic: str) -> list:
    """Every record of a topic, from the start."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        found: list = []
        async with asyncio.timeout(120):
            while True:
                positions = [await consumer.position(p) for p in partitions]
                if all(at >= ends[p] for at, p in zip(positions, partitions, strict=True)):
                    break
                batch = await consumer.getmany(timeout_ms=500)
                found += [record for records in batch.values() for record in records]
        return found
    finally:
        await consumer.stop()


async def publish_raw(bootstrap: str, records: list[tuple[str, bytes, list]]) -> None:
    """(topic, value, headers) records, keyed by the workspace, as any producer could."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for topic, value, headers in records:
            await producer.send_and_wait(topic, value, key=WORKSPACE.encode(), headers=headers)
    finally:
        await producer.stop()


_JSON = ("content-type", b"application/json")


def poison_records() -> list[tuple[str, bytes, list]]:
    """For every input topic: garbage bytes that claim to be JSON, valid JSON of a wrong
    schema, and an unknown event type."""
    found = []
    for topic in topics.ALL_TOPICS:
        event_type = next(name for name, model in EVENT_TYPES.items() if model.TOPIC == topic)
        envelope = [("ce_specversion", b"1.0"), ("ce_id", b"poison")]
        typed = [*envelope, ("ce_type", event_type.encode()), _JSON]
        unknown = [*envelope, ("ce_type", b"commsintel.nobody.Unknown.v1"), _JSON]
        found += [
            (topic, b"\x00\xff garbage \x81{", typed),
            (topic, b'{"workspace_id": 7}', typed),
            (topic, b"{}", unknown),
        ]
    return found
