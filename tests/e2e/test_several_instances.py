"""Several instances of every service, as deployed: broker, store and each instance as
separate processes (issue 18).

Three synthetic workspaces (bench/workspaces) are imported member by member. A reference
run does it with one instance of each service. The run under test starts two instances
of each (static members "a" and "b" of each service's group, topics of 6 partitions),
checks that both hold partitions, starts the imports, and once every "b" has committed
part of its share, stops each "b" (SIGTERM) and removes it from its group, as an operator
does for an instance gone for good (on Kafka the session timeout does it). The "a"s take
over the rest; every projection must end equal to the reference, field by field.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka.partitioner import DefaultPartitioner

# `uv run pytest` does not put the repository root on sys.path; bench/ and the fault
# suite's harness (tests/faults/fault_runs.py) are found from there.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.workspaces import generate, write
from commsintel.pipeline import SERVICES, ensure_topics, wait_until_caught_up
from tests.e2e.service_instances import (
    OtherInstances,
    assignments,
    committed_offsets,
    end_offsets,
    remove_from_group,
)
from tests.faults.fault_runs import (
    CONSUMING_SERVICES,
    Servers,
    ServiceProcesses,
    config_for,
    differences,
    snapshot,
)
from tests.support.process_pipeline import wait_until_serving

pytestmark = [pytest.mark.kafka, pytest.mark.mongo, pytest.mark.e2e, pytest.mark.timeout(420)]

PARTITIONS = 6
# (seed, distinct messages, members). Events are keyed by workspace: these three land on
# partitions 1, 3 and 5, so each half of a topic (what the range assignor gives each of
# two instances) holds at least one of them.
WORKSPACES = ((3, 500, 3), (1, 500, 3), (6, 500, 3))
CATCH_UP_SECONDS = 180.0


@dataclass(frozen=True)
class MemberArchive:
    workspace_id: str
    member_id: str
    address: str
    mbox: Path


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[MemberArchive]]:
    """Workspace id -> its members' mbox archives."""
    found = {}
    for seed, messages, members in WORKSPACES:
        out = tmp_path_factory.mktemp(f"workspace-{seed}")
        manifest = json.loads(
            write(generate(messages, seed=seed, members=members), out).manifest.read_text()
        )
        found[manifest["workspace_id"]] = [
            MemberArchive(
                manifest["workspace_id"],
                member["member_id"],
                member["address"],
                out / member["mbox"],
            )
            for member in manifest["members"]
        ]
    partitions = {_partition_of(workspace) for workspace in found}
    assert partitions & {0, 1, 2} and partitions & {3, 4, 5}, partitions
    return found


def _partition_of(workspace_id: str) -> int:
    every = list(range(PARTITIONS))
    return DefaultPartitioner()(workspace_id.encode(), every, every)


async def _import(environment: dict[str, str], archive: MemberArchive, log: Path) -> None:
    command = [
        *(sys.executable, "-m", "commsintel.cli", "import"),
        *("--workspace", archive.workspace_id, "--member", archive.member_id),
        *("--owner-address", archive.address, str(archive.mbox)),
    ]
    with log.open("ab") as output:
        process = await asyncio.create_subprocess_exec(
            *command, env=environment, stdout=output, stderr=output
        )
        try:
            assert await asyncio.wait_for(process.wait(), 300) == 0, log.read_text()[-2000:]
        except BaseException:
            if process.returncode is None:
                process.kill()
                await process.wait()
            raise


async def _import_workspaces(
    environment: dict[str, str], archives: dict[str, list[MemberArchive]], log: Path
) -> None:
    """The workspaces side by side; within one, its members one after the other in the
    same order every run (a workspace's events keep their order on its partition)."""

    async def one_workspace(members: list[MemberArchive]) -> None:
        for archive in members:
            await _import(environment, archive, log)

    await asyncio.gather(*(one_workspace(members) for members in archives.values()))


async def _started(
    root: Path, signing_key: str, *, with_services: bool = True
) -> tuple[Servers, ServiceProcesses]:
    """A broker and store of the run's own, topics of 6 partitions made before any
    service starts, and (unless not `with_services`) instance "a" of each service, ready."""
    servers = Servers(root).start()
    services = ServiceProcesses(config_for(servers, signing_key), root / "logs")
    services.overrides["INSTANCE_ID"] = "a"
    try:
        await ensure_topics(servers.bootstrap, partitions=PARTITIONS)
        if with_services:
            await _ready(services)
    except BaseException:
        services.stop()
        servers.stop()
        raise
    return servers, services


async def _ready(services: ServiceProcesses) -> None:
    await services.start()
    await wait_until_serving(_target_of_a(services, "ingest"), 60)


def _target_of_a(services: ServiceProcesses, service: str) -> str:
    ports = services.ports | {"ingest": services.pipeline.ingest_port}
    return f"127.0.0.1:{ports[service]}"


def _groups(services: ServiceProcesses) -> dict[str, str]:
    """Service -> its consumer group."""
    name = services.config.name
    return {service: f"{name}-{service}" for service in SERVICES}


@pytest.fixture(scope="module")
async def one_instance_each(tmp_path_factory, archives, signing_key) -> dict:
    """The reference: the imports first, then one instance of each service on the
    backlog (it makes bigger batches than the run under test: the result must not
    depend on that)."""
    root = tmp_path_factory.mktemp("one-instance")
    servers, services = await _started(root, signing_key, with_services=False)
    try:
        started = time.monotonic()
        await _import_workspaces(services.environment(), archives, root / "import.log")
        print(f"\none instance each: imported in {time.monotonic() - started:.1f}s")
        await _ready(services)
        config = services.config
        groups = config.consumer_groups()
        await wait_until_caught_up(config.kafka_bootstrap, groups, CATCH_UP_SECONDS)
        print(f"one instance each: started and caught up in {time.monotonic() - started:.1f}s")
        return await snapshot(servers.mongo_uri)
    finally:
        services.stop()
        servers.stop()


async def test_two_instances_share_the_work_and_one_stopped_mid_import_hands_it_over(
    one_instance_each, archives, signing_key, tmp_path
) -> None:
    servers, services = await _started(tmp_path, signing_key, with_services=False)
    others = OtherInstances(services.environment, tmp_path / "logs")
    bootstrap = servers.bootstrap
    groups = _groups(services)
    imports: asyncio.Task | None = None
    try:
        # Two instances of every service, "a" and "b", start together.
        services.spawn()
        for service in SERVICES:
            others.start(service)
        for service in SERVICES:
            await wait_until_serving(_target_of_a(services, service), 60)
            await others.wait_ready(service)

        # Both instances of each service hold partitions.
        held = {service: await _held_by_both(bootstrap, groups[service]) for service in SERVICES}

        # The imports run; once both instances of each service have committed part of
        # their share, the "b"s stop.
        started = time.monotonic()
        imports = asyncio.create_task(
            _import_workspaces(services.environment(), archives, tmp_path / "import.log")
        )
        await _until_both_have_committed(bootstrap, groups, held, imports)
        assert not imports.done(), "the imports ended before the stop"
        by_b = {service: held[service]["b"] for service in CONSUMING_SERVICES}
        for service in SERVICES:
            assert others.stop(service) == 0, f"{service} b did not stop cleanly"
        stopped_at = {
            service: await committed_offsets(bootstrap, groups[service], by_b[service])
            for service in CONSUMING_SERVICES
        }
        ends_at_stop = await end_offsets(bootstrap, {p for ps in by_b.values() for p in ps})
        print(f"\nthe b instances stopped {time.monotonic() - started:.1f}s into the imports")

        # Gone for good: taken out of their groups (on Kafka the session timeout does
        # it), "a" takes over their partitions.
        environment = services.environment()
        await asyncio.gather(*(remove_from_group(environment, s, "b") for s in SERVICES))
        await imports
        print(f"two instances each: imported in {time.monotonic() - started:.1f}s")
        config = services.config
        await wait_until_caught_up(bootstrap, config.consumer_groups(), CATCH_UP_SECONDS)
        print(f"two instances each: imported and caught up in {time.monotonic() - started:.1f}s")

        # Every projection equals the one-instance run's.
        found = differences(one_instance_each, await snapshot(servers.mongo_uri))
        assert not found, "\n".join(found)

        # Each "b" had done part of its share (it stopped with its commits on its
        # partitions), and "a" did the rest of it: it holds every partition now.
        for service in CONSUMING_SERVICES:
            done_by_b = sum(stopped_at[service].values())
            left_by_b = sum(ends_at_stop[p] - stopped_at[service][p] for p in by_b[service])
            final = await committed_offsets(bootstrap, groups[service], by_b[service])
            done_by_a = sum(final.values()) - done_by_b
            print(
                f"{service}: b's partitions {sorted({p.partition for p in by_b[service]})}: "
                f"{done_by_b} records by b, {left_by_b} left at its stop, {done_by_a} by a after"
            )
            assert done_by_b > 0, f"{service} b committed nothing before its stop"
            assert done_by_a > 0, f"{service} a took over nothing from b"
        for service in SERVICES:
            now = await assignments(bootstrap, groups[service])
            assert set(now) == {"a"}, f"{service}: {now}"
            assert held[service]["b"] <= now["a"], f"{service} a does not hold b's partitions"
    finally:
        if imports is not None:
            imports.cancel()
        others.stop_all()
        services.stop()
        servers.stop()


async def _held_by_both(bootstrap: str, group: str, timeout: float = 60.0) -> dict:
    """Waits until instances "a" and "b" of the group both hold partitions."""
    deadline = time.monotonic() + timeout
    while True:
        held = await assignments(bootstrap, group)
        if set(held) == {"a", "b"} and all(held.values()):
            return held
        assert time.monotonic() < deadline, f"{group}: not both assigned: {held}"
        await asyncio.sleep(0.2)


async def _until_both_have_committed(
    bootstrap: str, groups: dict[str, str], held: dict, imports: asyncio.Task
) -> None:
    """Waits (120 s at most) until, for each consuming service, the group has committed
    on partitions of "a" and on partitions of "b"; the imports failing ends the wait."""
    deadline = time.monotonic() + 120
    waiting = {(s, i): held[s][i] for s in CONSUMING_SERVICES for i in ("a", "b")}
    while waiting:
        if imports.done():
            imports.result()
        for (service, instance), partitions in list(waiting.items()):
            if sum((await committed_offsets(bootstrap, groups[service], partitions)).values()):
                del waiting[(service, instance)]
        assert time.monotonic() < deadline, f"nothing committed yet by {sorted(waiting)}"
        await asyncio.sleep(0.2)
