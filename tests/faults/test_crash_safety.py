"""Crash safety, as deployed: broker, store and each service as separate processes.

A fault-free run imports two sample mailboxes (about 1,500 messages); each faulted run
imports the same and must end with every projection equal to it, field by field:
- services killed with SIGKILL three times each (early in the import, in the middle, and
  while catching up), the import itself killed twice, poison on every input topic;
- then every input delivered a second time, then each projection replayed;
- the broker, then the store, stopped and started again mid-stream.
How long each case took to converge is printed (docs/benchmarks.md keeps the figures).
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fault_runs import (
    CONSUMING_SERVICES,
    WORKSPACE,
    Servers,
    ServiceProcesses,
    config_for,
    differences,
    kill_import_after,
    poison_records,
    publish_raw,
    records_of,
    run_import,
    snapshot,
)

from commsintel.contracts import topics
from commsintel.contracts.envelope import header_map
from commsintel.pipeline import consumer_lag, ensure_topics, wait_until_caught_up
from commsintel.sample_mailboxes import write_sample_mailboxes

pytestmark = [pytest.mark.kafka, pytest.mark.mongo, pytest.mark.e2e, pytest.mark.timeout(600)]

MEMBERS = ("alice", "ben")
CATCH_UP_SECONDS = 300.0


@pytest.fixture(scope="module")
def mailboxes(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    written = write_sample_mailboxes(tmp_path_factory.mktemp("mail"))
    return [written[member] for member in MEMBERS]


async def _started(
    root: Path, signing_key: str, *, with_services: bool = True
) -> tuple[Servers, ServiceProcesses]:
    servers = Servers(root).start()
    services = ServiceProcesses(config_for(servers, signing_key), root / "logs")
    try:
        await ensure_topics(servers.bootstrap)
        if with_services:
            await services.start()
    except BaseException:
        services.stop()
        servers.stop()
        raise
    return servers, services


async def _backlog(services: ServiceProcesses, service: str) -> int:
    """What the service's consumer group has not committed yet."""
    config = services.config
    group = f"{config.name}-{service}"
    return await consumer_lag(config.kafka_bootstrap, {group: config.consumer_groups()[group]})


async def _caught_up(services: ServiceProcesses) -> float:
    started = time.monotonic()
    config = services.config
    await wait_until_caught_up(config.kafka_bootstrap, config.consumer_groups(), CATCH_UP_SECONDS)
    return time.monotonic() - started


@pytest.fixture(scope="module")
async def fault_free(tmp_path_factory, mailboxes, signing_key) -> dict:
    root = tmp_path_factory.mktemp("fault-free")
    servers, services = await _started(root, signing_key)
    try:
        for mailbox in mailboxes:
            await run_import(services.environment(), mailbox, root / "import.log")
        await _caught_up(services)
        return await snapshot(servers.mongo_uri)
    finally:
        services.stop()
        servers.stop()


def _assert_equal(expected: dict, actual: dict) -> None:
    found = differences(expected, actual)
    assert not found, "\n".join(found)


async def _kill_each_service_three_times(
    services: ServiceProcesses,
) -> list[tuple[str, int, float]]:
    """Three rounds, each once identity-resolution has committed part of its backlog (so
    mid-stream, not while it starts): every consuming service killed at once and started
    again. Returns (service, its backlog when killed, seconds until identity-resolution
    was ready again, the others being started without waiting)."""
    kills = []
    for _ in range(3):
        backlogs = await _all_working_on_backlog(services)
        for service in CONSUMING_SERVICES:
            services.kill(service)
        for service in CONSUMING_SERVICES[1:]:
            services.respawn(service)
        ready_after = await services.restart(CONSUMING_SERVICES[0])
        kills += [(service, backlogs[service], ready_after) for service in CONSUMING_SERVICES]
    for service in CONSUMING_SERVICES[1:]:
        await services.wait_ready(service)
    return kills


async def _all_working_on_backlog(services: ServiceProcesses) -> dict[str, int]:
    """Waits (60 s at most) until identity-resolution's backlog has shrunk and is not gone
    yet, and every service downstream of it has records to go at the same moment (they
    are fed by identity-resolution, so they catch up with it now and then). Returns each
    service's backlog at that moment."""
    first = await _backlog(services, CONSUMING_SERVICES[0])
    deadline = time.monotonic() + 60
    while True:
        backlogs = {s: await _backlog(services, s) for s in CONSUMING_SERVICES}
        leader = backlogs[CONSUMING_SERVICES[0]]
        if leader == 0 or time.monotonic() > deadline:
            return backlogs
        if leader < first and all(backlogs.values()):
            return backlogs
        await asyncio.sleep(0.05)


async def _working_on_backlog(services: ServiceProcesses, service: str) -> int:
    """Waits (60 s at most) until the service's backlog shrinks and is not gone yet."""
    first = await _backlog(services, service)
    deadline = time.monotonic() + 60
    while True:
        backlog = await _backlog(services, service)
        if 0 < backlog < first or backlog == 0 or time.monotonic() > deadline:
            return backlog
        await asyncio.sleep(0.1)


async def test_killed_services_and_imports_end_equal_to_a_fault_free_run(
    fault_free, mailboxes, signing_key, tmp_path
) -> None:
    servers, services = await _started(tmp_path, signing_key, with_services=False)
    # Small batches (the fault-free run takes 500): more commits to fall between, and
    # the result must not depend on how the inputs were cut into batches.
    services.overrides["BATCH_SIZE"] = "100"
    try:
        # Poison first, on the partitions the workspace's real inputs take.
        poison = poison_records()
        await publish_raw(servers.bootstrap, poison)
        environment = services.environment()
        log = tmp_path / "import.log"
        # The first import is killed twice part way, then run again to the end.
        await kill_import_after(environment, mailboxes[0], log, seconds=3)
        await kill_import_after(environment, mailboxes[0], log, seconds=6)
        for mailbox in mailboxes:
            await run_import(environment, mailbox, log)
        # The services start on the whole backlog and are killed while they work on it.
        services.spawn()
        kills = await _kill_each_service_three_times(services)
        converged_after = await _caught_up(services)
        for service, backlog, ready_after in kills:
            print(
                f"\n{service} killed with {backlog} records to go, ready {ready_after:.1f}s later"
            )
        print(f"converged {converged_after:.1f}s after the last kill")
        for service in CONSUMING_SERVICES:
            mid_stream = [backlog for name, backlog, _ in kills if name == service and backlog]
            assert len(mid_stream) >= 2, f"{service} was not killed mid-stream: {kills}"

        # Every projection equals the fault-free run's.
        _assert_equal(fault_free, await snapshot(servers.mongo_uri))

        # Every poison record is in its topic's dead-letter twin with a reason.
        for topic in topics.ALL_TOPICS:
            dead = [
                header_map(r.headers)
                for r in await records_of(servers.bootstrap, topics.dead_letter_topic(topic))
            ]
            reasons = {d["dlq_source_offset"]: d["dlq_reason"] for d in dead}
            expected = len([p for p in poison if p[0] == topic])
            assert len(reasons) == expected, (topic, reasons)
            assert sum("not JSON" in r for r in reasons.values()) == 1, reasons
            assert sum("does not match its schema" in r for r in reasons.values()) == 1
            assert sum("unknown event type" in r for r in reasons.values()) == 1

        # Every input delivered again: nothing changes.
        started = time.monotonic()
        again = []
        for topic in (topics.INGEST_MAILBOXES, topics.INGEST_MESSAGES, topics.INGEST_CALENDAR):
            again += [
                (topic, r.value, list(r.headers))
                for r in await records_of(servers.bootstrap, topic)
                if r.key == WORKSPACE.encode()
            ]
        await publish_raw(servers.bootstrap, again)
        await _caught_up(services)
        print(f"{len(again)} inputs delivered again, handled in {time.monotonic() - started:.1f}s")
        _assert_equal(fault_free, await snapshot(servers.mongo_uri))

        # Each service's replay of the faulted topics gives the same projections again.
        services.stop()
        for service in CONSUMING_SERVICES:
            started = time.monotonic()
            replay = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "commsintel.cli", "replay", service),
                env=environment,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            _, errors = await asyncio.wait_for(replay.communicate(), 300)
            assert replay.returncode == 0, errors.decode()[-2000:]
            print(f"replay of {service}: {time.monotonic() - started:.1f}s")
        _assert_equal(fault_free, await snapshot(servers.mongo_uri))
    finally:
        services.stop()
        servers.stop()


async def test_broker_and_store_restarts_mid_stream_end_equal_to_a_fault_free_run(
    fault_free, mailboxes, signing_key, tmp_path
) -> None:
    servers, services = await _started(tmp_path, signing_key, with_services=False)
    try:
        for mailbox in mailboxes:
            await run_import(services.environment(), mailbox, tmp_path / "import.log")
        # The services start on the whole backlog; mid-stream, the broker goes away for
        # five seconds, then the store does.
        services.spawn()
        backlog = await _working_on_backlog(services, "identity-resolution")
        servers.kafka.stop()
        await asyncio.sleep(5)
        servers.kafka.start()
        store_backlog = sum([await _backlog(services, s) for s in CONSUMING_SERVICES])
        servers.mongo.stop()
        await asyncio.sleep(5)
        servers.mongo.start()
        print(f"\nbroker stopped with {backlog} records to go for identity-resolution")
        print(f"store stopped with {store_backlog} records to go for the three consumers")
        assert backlog > 0 and store_backlog > 0, "the restarts were not mid-stream"
        converged_after = await _caught_up(services)
        print(f"\nconverged {converged_after:.1f}s after the store came back")
        _assert_equal(fault_free, await snapshot(servers.mongo_uri))
    finally:
        services.stop()
        servers.stop()


def _fill_maildir(server, user: str, mbox: Path) -> int:
    """The sample mailbox as the user's Dovecot INBOX; returns how many messages."""
    import mailbox as stdlib_mailbox
    import shutil

    server.maildir(user).parent.mkdir(parents=True, exist_ok=True)
    maildir = stdlib_mailbox.Maildir(server.maildir(user), create=True)
    count = 0
    for message in stdlib_mailbox.mbox(str(mbox)):
        maildir.add(message)
        count += 1
    for path in (server.maildir(user).parent, *server.maildir(user).parent.rglob("*")):
        shutil.chown(path, "dovecot", "dovecot")
    return count


async def _synced_keys(mongo_uri: str, mailbox_id: str | None = None) -> dict[str, set[str]]:
    """Each mailbox's synced message keys (its sightings)."""
    from pymongo import AsyncMongoClient

    client = AsyncMongoClient(mongo_uri)
    try:
        found: dict[str, set[str]] = {}
        query = {} if mailbox_id is None else {"mailbox_id": mailbox_id}
        async for sighting in client["faults_ingest"]["sightings"].find(query):
            found.setdefault(sighting["mailbox_id"], set()).add(sighting["message_key"])
        return found
    finally:
        await client.close()


async def test_ingest_killed_mid_sync_ends_with_the_same_message_set(
    fault_free, mailboxes, signing_key, tmp_path
) -> None:
    import grpc

    from commsintel.contracts.auth import Caller, issue_token
    from commsintel.contracts.proto.ingest.v1 import ingest_pb2, ingest_pb2_grpc
    from tests.support.local_dovecot import running_dovecot

    # What the fault-free run imported from alice's archive.
    expected = {
        document["message_key"]
        for document in fault_free["ingest.sightings"].values()
        if document["mailbox_id"] in _mailboxes_of(fault_free, "alice")
    }
    with running_dovecot({"alice": "secret"}) as dovecot:
        _fill_maildir(dovecot, "alice", mailboxes[0])
        servers, services = await _started(tmp_path, signing_key)
        try:
            token = issue_token(
                signing_key, Caller(WORKSPACE, "alice"), issued_at=datetime.now(UTC)
            )
            target = f"127.0.0.1:{services.pipeline.ingest_port}"
            async with grpc.aio.insecure_channel(target) as channel:
                connected = await ingest_pb2_grpc.MailboxServiceStub(channel).ConnectMailbox(
                    ingest_pb2.ConnectMailboxRequest(
                        imap=ingest_pb2.ImapCredentials(
                            host="127.0.0.1",
                            port=dovecot.port,
                            security=ingest_pb2.IMAP_SECURITY_NONE,
                            username="alice",
                            password="secret",
                        ),
                        owner_addresses=["alice@northwind.io"],
                    ),
                    metadata=(("authorization", f"Bearer {token}"),),
                )
            mailbox_id = connected.mailbox.mailbox_id
            # Killed three times part way through the backfill, and started again.
            for share in (0.2, 0.45, 0.7):
                await _synced_at_least(servers.mongo_uri, mailbox_id, share * len(expected))
                services.kill("ingest")
                await services.restart("ingest")
            started = time.monotonic()
            await _synced_at_least(servers.mongo_uri, mailbox_id, len(expected))
            assert (await _synced_keys(servers.mongo_uri, mailbox_id))[mailbox_id] == expected
            print(f"\nbackfill finished {time.monotonic() - started:.1f}s after the last kill")
            # Every message once on the topic as well.
            synced = [
                r
                for r in await records_of(servers.bootstrap, topics.INGEST_MESSAGES)
                if header_map(r.headers).get("ce_type", "").endswith("MessageSynced.v1")
            ]
            assert len({header_map(r.headers)["ce_id"] for r in synced}) == len(expected)
            # And the same threads (what thread-level blocklisting reads), terms and all.
            assert _threads_of(await snapshot(servers.mongo_uri), {mailbox_id}) == _threads_of(
                fault_free, _mailboxes_of(fault_free, "alice")
            )
        finally:
            services.stop()
            servers.stop()


async def _synced_at_least(mongo_uri: str, mailbox_id: str, count: float) -> None:
    deadline = time.monotonic() + CATCH_UP_SECONDS
    while True:
        synced = (await _synced_keys(mongo_uri, mailbox_id)).get(mailbox_id, set())
        if len(synced) >= count:
            return
        assert time.monotonic() < deadline, f"{len(synced)} of {count} synced in time"
        await asyncio.sleep(0.3)


def _threads_of(snapshot_: dict, mailbox_ids: set[str]) -> dict[str, list[str]]:
    return {
        document["thread_key"]: sorted(document["terms"])
        for document in snapshot_["ingest.threads"].values()
        if document["mailbox_id"] in mailbox_ids
    }


def _mailboxes_of(snapshot_: dict, member: str) -> set[str]:
    return {
        document["_id"]
        for document in snapshot_["ingest.mailboxes"].values()
        if document.get("member_id") == member
    }
