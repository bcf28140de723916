"""A second instance of each service beside a fault-suite pipeline (tests/faults/
fault_runs.py), and what the broker says about the consumer groups they share: who holds
which partitions, and how far each group has committed."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

from commsintel.embedded import free_port
from commsintel.local_stack import ENV_PREFIXES
from tests.support.process_pipeline import wait_until_serving


def as_instance(environment: dict[str, str], instance_id: str) -> dict[str, str]:
    """Every service's settings as instance `instance_id` (its static member id)."""
    return environment | {f"{prefix}INSTANCE_ID": instance_id for prefix in ENV_PREFIXES.values()}


@dataclass
class OtherInstances:
    """Each service once more as a `commsintel serve` process: the settings of the
    pipeline's own instance (`environment`), another instance id and gRPC ports of its
    own; its clients (access to intelligence and ingest, ingest to identity) keep the
    pipeline's targets."""

    environment: Callable[[], dict[str, str]]
    log_dir: Path
    instance_id: str = "b"
    ports: dict[str, int] = field(default_factory=lambda: {s: free_port() for s in ENV_PREFIXES})
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def environment_of(self, service: str) -> dict[str, str]:
        bind = {f"{ENV_PREFIXES[service]}GRPC_BIND": f"127.0.0.1:{self.ports[service]}"}
        return as_instance(self.environment(), self.instance_id) | bind

    def start(self, service: str) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{service}-{self.instance_id}.log").open("ab") as log:
            self.processes[service] = subprocess.Popen(
                [sys.executable, "-m", "commsintel.cli", "serve", service],
                env=self.environment_of(service),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def wait_ready(self, service: str, timeout: float = 60.0) -> None:
        await wait_until_serving(f"127.0.0.1:{self.ports[service]}", timeout)

    def stop(self, service: str, timeout: float = 15.0) -> int:
        """SIGTERM, as an orchestrator scaling down does; returns the exit code."""
        process = self.processes.pop(service)
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise

    def stop_all(self) -> None:
        for service in list(self.processes):
            try:
                self.stop(service)
            except subprocess.TimeoutExpired:
                pass


async def remove_from_group(environment: dict[str, str], service: str, instance_id: str) -> None:
    """What an operator (or a scale-down hook) does for an instance gone for good:
    `commsintel instance remove SERVICE INSTANCE_ID`; on Kafka the session timeout does it."""
    removal = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "commsintel.cli", "instance", "remove", service, instance_id),
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(removal.communicate(), 60)
    assert removal.returncode == 0, output.decode()


async def assignments(bootstrap: str, group: str) -> dict[str, frozenset[TopicPartition]]:
    """Instance id -> the partitions the group assigned it (members are told apart by
    their client id, `service@instance_id`)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        found = {}
        for answer in await admin.describe_consumer_groups([group]):
            for described in answer.groups:
                for member in described[5]:
                    client_id = next(f for f in member[1:3] if isinstance(f, str) and "@" in f)
                    assigned = member[-1]
                    partitions = (
                        ConsumerProtocolMemberAssignment.decode(assigned).partitions()
                        if assigned
                        else []
                    )
                    found[client_id.rpartition("@")[2]] = frozenset(partitions)
        return found
    finally:
        await admin.close()


async def committed_offsets(
    bootstrap: str, group: str, partitions: Iterable[TopicPartition]
) -> dict[TopicPartition, int]:
    """How far the group has committed on each partition (0: nothing yet)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        wanted = list(partitions)
        committed = await admin.list_consumer_group_offsets(group, partitions=wanted)
        return {p: max(committed[p].offset, 0) if p in committed else 0 for p in wanted}
    finally:
        await admin.close()


async def end_offsets(
    bootstrap: str, partitions: Iterable[TopicPartition]
) -> dict[TopicPartition, int]:
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await probe.start()
    try:
        return dict(await probe.end_offsets(list(partitions)))
    finally:
        await probe.stop()
