"""The four services started together in one process against one Kafka and one MongoDB
(`make run`, and the e2e tests), and the Kafka checks of its topics and consumer groups.
The same services as separate processes are tests/support/process_pipeline.py."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from commsintel.access import bootstrap as access_bootstrap
from commsintel.access.config import AccessSettings
from commsintel.contracts import topics
from commsintel.identity import bootstrap as identity_bootstrap
from commsintel.identity.config import IdentitySettings
from commsintel.ingest import bootstrap as ingest_bootstrap
from commsintel.ingest.adapters.crypto import encode_key, new_key
from commsintel.ingest.config import IngestSettings
from commsintel.intelligence import bootstrap as intelligence_bootstrap
from commsintel.intelligence.config import IntelligenceSettings
from commsintel.platform.service_runtime import ServiceRuntime

SERVICES = ("ingest", "identity-resolution", "intelligence", "access")


@dataclass(frozen=True)
class PipelineConfig:
    kafka_bootstrap: str
    mongo_uri: str
    signing_key: str
    access_bind: str = "127.0.0.1:0"
    intelligence_bind: str = "127.0.0.1:0"
    identity_bind: str = "127.0.0.1:0"
    ingest_bind: str = "127.0.0.1:0"
    # Ingest's master key; a fresh one per config unless given (make run keeps one).
    encryption_key: str = field(default_factory=lambda: encode_key(new_key()), repr=False)
    # Lets several pipelines share one broker and store (tests): databases and consumer
    # groups get this prefix.
    name: str = "commsintel"
    # Networks ingest may connect to besides public addresses (its
    # OUTBOUND_ALLOWED_NETWORKS): the local run and the tests allow loopback, where
    # their IMAP, SMTP and CalDAV servers listen. Empty: the environment decides.
    outbound_allowed_networks: str = ""
    # Every service's METRICS_BIND (in one process they share the endpoint). Empty: off.
    metrics_bind: str = ""

    def ingest(self, identity_target: str = "127.0.0.1:50053") -> IngestSettings:
        return IngestSettings(
            **self._common("ingest"),
            grpc_bind=self.ingest_bind,
            signing_key=self.signing_key,
            encryption_key=self.encryption_key,
            identity_target=identity_target,
            **(
                {"outbound_allowed_networks": self.outbound_allowed_networks}
                if self.outbound_allowed_networks
                else {}
            ),
        )

    def identity(self) -> IdentitySettings:
        return IdentitySettings(
            **self._common("identity"), grpc_bind=self.identity_bind, signing_key=self.signing_key
        )

    def intelligence(self) -> IntelligenceSettings:
        return IntelligenceSettings(
            **self._common("intelligence"),
            grpc_bind=self.intelligence_bind,
            signing_key=self.signing_key,
        )

    def access(self, intelligence_target: str, ingest_target: str) -> AccessSettings:
        return AccessSettings(
            **self._common("access"),
            grpc_bind=self.access_bind,
            signing_key=self.signing_key,
            intelligence_target=intelligence_target,
            ingest_target=ingest_target,
        )

    def consumer_groups(self) -> dict[str, tuple[str, ...]]:
        return {
            f"{self.name}-identity-resolution": identity_bootstrap.INPUT_TOPICS,
            f"{self.name}-intelligence": intelligence_bootstrap.INPUT_TOPICS,
            f"{self.name}-access": access_bootstrap.INPUT_TOPICS,
        }

    def _common(self, service: str) -> dict:
        group = "identity-resolution" if service == "identity" else service
        return {
            "kafka_bootstrap": self.kafka_bootstrap,
            "mongo_uri": self.mongo_uri,
            "mongo_database": f"{self.name}_{service}",
            "consumer_group": f"{self.name}-{group}",
            "metrics_bind": self.metrics_bind,
        }


@dataclass
class InProcessPipeline:
    config: PipelineConfig
    ingest: ingest_bootstrap.IngestService = field(init=False)
    identity: ServiceRuntime = field(init=False)
    intelligence: ServiceRuntime = field(init=False)
    access: ServiceRuntime = field(init=False)

    async def start(self) -> InProcessPipeline:
        await ensure_topics(self.config.kafka_bootstrap)
        self.identity = identity_bootstrap.build(self.config.identity())
        self.intelligence = intelligence_bootstrap.build(self.config.intelligence())
        await self.identity.start()
        await self.intelligence.start()
        # Ingest reads people from identity-resolution (personalized sending).
        self.ingest = ingest_bootstrap.build(
            self.config.ingest(identity_target=f"127.0.0.1:{self.identity.grpc_port}")
        )
        await self.ingest.start()
        self.access = access_bootstrap.build(
            self.config.access(
                f"127.0.0.1:{self.intelligence.grpc_port}", f"127.0.0.1:{self.ingest.grpc_port}"
            )
        )
        await self.access.start()
        # Ready as a deployment's readiness probe says: every consumer group has assigned
        # (a command before that waits for a consumer that is still joining).
        for runtime in (self.identity, self.intelligence, self.ingest.runtime, self.access):
            if runtime.membership is not None:
                await asyncio.wait_for(runtime.membership.assigned.wait(), 120)
        return self

    async def stop(self) -> None:
        """Stops whatever started, also after a start that failed half way."""
        for name in ("access", "intelligence", "identity", "ingest"):
            service = getattr(self, name, None)
            if service is not None:
                await service.stop()

    @property
    def access_target(self) -> str:
        return f"127.0.0.1:{self.access.grpc_port}"

    @property
    def ingest_target(self) -> str:
        return f"127.0.0.1:{self.ingest.grpc_port}"

    @property
    def identity_target(self) -> str:
        return f"127.0.0.1:{self.identity.grpc_port}"

    @property
    def intelligence_target(self) -> str:
        return f"127.0.0.1:{self.intelligence.grpc_port}"

    async def wait_until_caught_up(self, timeout: float = 120.0) -> None:
        await wait_until_caught_up(
            self.config.kafka_bootstrap, self.config.consumer_groups(), timeout
        )


async def ensure_topics(bootstrap: str, partitions: int = 3) -> None:
    """Create the topics (and their dead-letter twins) if the broker lacks them."""
    from aiokafka.admin import NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            name
            for topic in topics.ALL_TOPICS
            for name in (topic, topics.dead_letter_topic(topic))
            if name not in existing
        ]
        if wanted:
            await admin.create_topics(
                [NewTopic(name, num_partitions=partitions, replication_factor=1) for name in wanted]
            )
    finally:
        await admin.close()


async def dead_lettered(bootstrap: str) -> dict[str, int]:
    """How many records each dead-letter topic holds (none is the healthy answer)."""
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await probe.start()
    try:
        counts = {}
        for topic in topics.ALL_TOPICS:
            dlq = topics.dead_letter_topic(topic)
            partitions = [
                TopicPartition(dlq, p) for p in sorted(probe.partitions_for_topic(dlq) or ())
            ]
            if partitions:
                ends = await probe.end_offsets(partitions)
                starts = await probe.beginning_offsets(partitions)
                counts[dlq] = sum(ends[p] - starts[p] for p in partitions)
        return counts
    finally:
        await probe.stop()


async def consumer_lag(bootstrap: str, groups: dict[str, tuple[str, ...]]) -> int:
    """Records the groups have not committed yet, summed over their topics."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin.start()
    await probe.start()
    try:
        lag = 0
        for group, group_topics in groups.items():
            partitions = [
                TopicPartition(topic, partition)
                for topic in group_topics
                for partition in sorted(probe.partitions_for_topic(topic) or ())
            ]
            ends = await probe.end_offsets(partitions)
            committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
            for partition in partitions:
                done = committed.get(partition)
                lag += ends[partition] - (done.offset if done and done.offset >= 0 else 0)
        return lag
    finally:
        await probe.stop()
        await admin.close()


async def wait_until_caught_up(
    bootstrap: str, groups: dict[str, tuple[str, ...]], timeout: float = 120.0
) -> None:
    """Wait until every group has committed everything; twice in a row, because a
    service may still be publishing what it consumed."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline:
        quiet = quiet + 1 if await consumer_lag(bootstrap, groups) == 0 else 0
        if quiet >= 2:
            return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"pipeline did not catch up within {timeout}s")
