"""Access over gRPC: CheckVisibility of 1,000 messages and ListRecordEmails of 50, each
with 50 calls in flight, against a bare grpc.aio unary echo server measured in the same
run at the same concurrency (DESIGN.md section 5).

The access service runs as its own `commsintel serve access` process on the local Kafka
and MongoDB stand-ins, seeded through Kafka with two mailboxes, 2,000 messages (a third
of them in both), 20 records, a sharing level, a record share, a mailbox grant and a
pending request, so the viewer's levels come from every kind of rule. The echo server is
another process. The client sends pre-serialized requests through one generic unary stub
for both, so its own cost is the same. The echo's payload is the larger message of the
call it stands for (the 1,000 keys of the request; the 50 emails of the response), sent
both ways; a tiny echo is shown too.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc

from commsintel.access import bootstrap as access_bootstrap
from commsintel.contracts.auth import Caller, issue_token
from commsintel.contracts.events import (
    InteractionRecord,
    InteractionResolved,
    MailboxConnected,
    MessageParticipant,
    MessageSynced,
    PersonCreated,
)
from commsintel.contracts.proto.access.v1 import access_pb2 as pb
from commsintel.contracts.proto.access.v1 import access_pb2_grpc as pb_grpc
from commsintel.embedded import free_port, kafka_bootstrap, local_kafka, local_mongo, mongo_uri
from commsintel.pipeline import PipelineConfig, ensure_topics, wait_until_caught_up
from commsintel.platform.streaming import EventPublisher, build_broker
from commsintel.platform.telemetry import configure_tracing
from tests.support.process_pipeline import ProcessPipeline, wait_until_serving

ROOT = Path(__file__).resolve().parent.parent
IN_FLIGHT = 50
MESSAGES = 2000
RECORDS = 20
CHECKED = 1000
PAGE = 50
IDLE_SECONDS = 5.0
ECHO = "/bench.Echo/Echo"
AT = datetime(2026, 1, 1, tzinfo=UTC)


def _identity(value: bytes) -> bytes:
    return value


async def _serve_echo(port: int) -> None:
    async def echo(request: bytes, context) -> bytes:
        return request

    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "bench.Echo",
                {
                    "Echo": grpc.unary_unary_rpc_method_handler(
                        echo, request_deserializer=_identity, response_serializer=_identity
                    )
                },
            ),
        )
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def _seed_events(workspace: str) -> list:
    events: list = []
    for member in ("alice", "ben"):
        events.append(
            MailboxConnected(
                event_id=f"{workspace}-c-{member}",
                workspace_id=workspace,
                mailbox_id=f"mb-{member}",
                member_id=member,
                owner_addresses=(f"{member}@ours.com",),
                source="archive",
                connected_at=AT,
            )
        )
    for n in range(RECORDS):
        events.append(
            PersonCreated(
                event_id=f"{workspace}-p{n}",
                workspace_id=workspace,
                person_id=f"{workspace}-r{n}",
                address=f"person{n}@acme.com",
                display_name=f"Person {n}",
                created_because="bench",
            )
        )
    for i in range(MESSAGES):
        key, sent_at = f"msg-{i}", AT + timedelta(minutes=i)
        record = f"{workspace}-r{i % RECORDS}"
        for member in ("alice", "ben") if i % 3 == 0 else ("alice",):
            events.append(
                MessageSynced(
                    event_id=f"{workspace}-s-{member}-{i}",
                    workspace_id=workspace,
                    mailbox_id=f"mb-{member}",
                    member_id=member,
                    mailbox_owner_addresses=(f"{member}@ours.com",),
                    message_key=key,
                    thread_key=f"thread-{i // 4}",
                    subject=f"Subject of message {i}",
                    sent_at=sent_at,
                    direction="sent",
                    participants=(
                        MessageParticipant(role="from", address=f"{member}@ours.com"),
                        MessageParticipant(role="to", address=f"person{i % RECORDS}@acme.com"),
                        MessageParticipant(role="cc", address="team@ours.com"),
                    ),
                )
            )
            events.append(
                InteractionResolved(
                    event_id=f"{workspace}-r-{member}-{i}",
                    workspace_id=workspace,
                    interaction_key=key,
                    kind="email",
                    mailbox_id=f"mb-{member}",
                    member_id=member,
                    occurred_at=sent_at,
                    direction="sent",
                    participant_count=3,
                    records=(InteractionRecord(record_id=record, record_kind="person", role="to"),),
                )
            )
    return events


async def _grants(stub, as_, workspace: str) -> None:
    """A sharing level, a record share, a mailbox grant and a pending request."""
    await stub.SetMailboxSharingLevel(
        pb.SetMailboxSharingLevelRequest(mailbox_id="mb-alice", level=pb.VISIBILITY_LEVEL_SUBJECT),
        metadata=as_("alice"),
    )
    await stub.ShareRecordEmails(
        pb.ShareRecordEmailsRequest(record_id=f"{workspace}-r1", member_ids=["zoe"]),
        metadata=as_("alice"),
    )
    await stub.GrantMailboxAccess(
        pb.GrantMailboxAccessRequest(mailbox_id="mb-ben", member_id="zoe"), metadata=as_("ben")
    )
    await stub.RequestAccess(
        pb.RequestAccessRequest(record_id=f"{workspace}-r0"), metadata=as_("zoe")
    )


async def _load(channel, method: str, payload: bytes, metadata, seconds: float):
    call = channel.unary_unary(
        method, request_serializer=_identity, response_deserializer=_identity
    )
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < stop:
            started = time.perf_counter()
            await call(payload, metadata=metadata)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    return len(latencies), time.perf_counter() - started, latencies


async def _cpu_percent(pid: int, seconds: float) -> float:
    """How busy a process is while nobody calls it (its Kafka consumer polling): the
    local broker answers an empty fetch at once instead of holding it, so an idle
    consumer keeps fetching."""

    def used() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    try:
        before = used()
        await asyncio.sleep(seconds)
        return (used() - before) / seconds * 100
    except OSError:
        return float("nan")


def _p99_ms(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100)[98] * 1000


async def _run(workdir: Path, seconds: float, rounds: int) -> dict[str, float]:
    kafka = local_kafka(workdir / "kafka").start()
    mongo = local_mongo(None, log_dir=workdir).start()
    echo_port = free_port()
    echo = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.access",
        "echo",
        str(echo_port),
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    key = secrets.token_hex(32)
    config = PipelineConfig(kafka_bootstrap(kafka), mongo_uri(mongo), key, name="bench")
    pipeline = ProcessPipeline(config, workdir / "logs", free_port(), free_port())
    try:
        await ensure_topics(config.kafka_bootstrap)
        pipeline.start_service("access")
        access_target = f"127.0.0.1:{pipeline.access_port}"
        await wait_until_serving(access_target)
        workspace = f"bench-{uuid.uuid4().hex[:8]}"

        def as_(member: str):
            token = issue_token(key, Caller(workspace, member), issued_at=datetime.now(UTC))
            return (("authorization", f"Bearer {token}"),)

        broker = build_broker(config.kafka_bootstrap, configure_tracing("bench"), "bench")
        await broker.start()
        try:
            await EventPublisher(broker).publish(_seed_events(workspace))
        finally:
            await broker.stop()
        groups = {f"{config.name}-access": access_bootstrap.INPUT_TOPICS}
        await wait_until_caught_up(config.kafka_bootstrap, groups, timeout=600)
        idle = await _cpu_percent(pipeline.processes["access"].pid, IDLE_SECONDS)
        figures = await _compare(
            access_target, f"127.0.0.1:{echo_port}", workspace, as_, seconds, rounds
        )
        return {**figures, "access_idle_cpu_percent": idle}
    finally:
        pipeline.stop()
        echo.terminate()
        await echo.wait()
        mongo.stop()
        kafka.stop()


async def _compare(access_target, echo_target, workspace, as_, seconds, rounds):
    rng = random.Random(7)
    keys = rng.sample([f"msg-{i}" for i in range(MESSAGES)], CHECKED)
    check = pb.CheckVisibilityRequest(message_keys=keys).SerializeToString()
    listing = pb.ListRecordEmailsRequest(record_id=f"{workspace}-r1", page_size=PAGE)
    viewer = as_("zoe")
    async with (
        grpc.aio.insecure_channel(access_target) as access,
        grpc.aio.insecure_channel(echo_target) as echo,
    ):
        stub = pb_grpc.AccessServiceStub(access)
        await _grants(stub, as_, workspace)
        # The answers are what the rules say before anything is timed.
        levels = await stub.CheckVisibility(
            pb.CheckVisibilityRequest(message_keys=keys), metadata=viewer
        )
        assert len(levels.levels) == CHECKED and len(set(levels.levels)) == 2, set(levels.levels)
        emails = await stub.ListRecordEmails(listing, metadata=viewer)
        assert len(emails.emails) == PAGE and emails.next_page_token
        listed = emails.SerializeToString()
        workloads = {
            "echo_tiny": (echo, ECHO, b"x" * 16),
            "echo_1000_keys": (echo, ECHO, check),
            "check_visibility": (
                access,
                "/commsintel.access.v1.AccessService/CheckVisibility",
                check,
            ),
            "echo_50_emails": (echo, ECHO, listed),
            "list_record_emails": (
                access,
                "/commsintel.access.v1.AccessService/ListRecordEmails",
                listing.SerializeToString(),
            ),
        }
        totals = {name: [0, 0.0, []] for name in workloads}
        for channel, method, payload in workloads.values():
            await _load(channel, method, payload, viewer, 0.5)  # warm up
        for _ in range(rounds):
            for name, (channel, method, payload) in workloads.items():
                calls, elapsed, latencies = await _load(channel, method, payload, viewer, seconds)
                totals[name][0] += calls
                totals[name][1] += elapsed
                totals[name][2] += latencies
    figures: dict[str, float] = {}
    for name, (calls, elapsed, latencies) in totals.items():
        figures[f"{name}_calls_per_s"] = calls / elapsed
        figures[f"{name}_p99_ms"] = _p99_ms(latencies)
    figures["check_visibility_msgs_per_s"] = figures["check_visibility_calls_per_s"] * CHECKED
    for name, echo_name in (
        ("check_visibility", "echo_1000_keys"),
        ("list_record_emails", "echo_50_emails"),
    ):
        rate = figures[f"{name}_calls_per_s"]
        figures[f"{name}_ratio_vs_echo"] = rate / figures[f"{echo_name}_calls_per_s"]
        figures[f"{name}_ratio_vs_tiny_echo"] = rate / figures["echo_tiny_calls_per_s"]
    return figures


def run(seconds: float = 5.0, rounds: int = 3) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as workdir:
        return asyncio.run(_run(Path(workdir), seconds, rounds))


if __name__ == "__main__":
    if sys.argv[1:2] == ["echo"]:
        asyncio.run(_serve_echo(int(sys.argv[2])))
    else:
        for name, value in run().items():
            print(f"  {name:<40} {value:>12.4g}")
