"""Many idle mailboxes on one ingest instance, then new mail to random ones.

N mailboxes on the local Dovecot (two messages each) are connected to one in-process
ingest and backfilled; then, while they wait in IDLE, messages are APPENDed to random
mailboxes at a steady pace and each is timed from APPEND to its MessageSynced on
ingest.messages, and to access serving it to the mailbox's member (CheckVisibility; the
other services run as `commsintel serve` processes). Reported: the latency percentiles,
the same latency for a bare IMAP IDLE session on the same server in the same run (the
baseline: what the server itself takes to tell a waiting client), ingest's RSS and
threads per mailbox, and its CPU while idle.
"""

from __future__ import annotations

import asyncio
import imaplib
import random
import resource
import secrets
import shutil
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import grpc
from aiokafka import AIOKafkaConsumer

from commsintel.contracts import topics
from commsintel.contracts.auth import Caller, issue_token
from commsintel.contracts.envelope import decode_event, header_map
from commsintel.contracts.events import MessageSynced
from commsintel.contracts.proto.access.v1 import access_pb2, access_pb2_grpc
from commsintel.embedded import free_port, kafka_bootstrap, local_kafka, local_mongo, mongo_uri
from commsintel.ingest import bootstrap as ingest_bootstrap
from commsintel.ingest.domain.mailboxes import ImapEndpoint
from commsintel.ingest.service_layer.mailbox_commands import ImapConnection
from commsintel.pipeline import PipelineConfig, ensure_topics
from tests.support.local_dovecot import DovecotServer, running_dovecot
from tests.support.process_pipeline import ProcessPipeline, wait_until_serving

PASSWORD = "bench-password"
APPENDS = 60
APPEND_INTERVAL = 0.5  # seconds between two APPENDs


def _letter(user: str, n: int) -> bytes:
    return (
        f"From: Customer <c{n}@customer.example>\r\nTo: {user}@northwind.io\r\n"
        f"Subject: bench {user}-{n}\r\nMessage-ID: <bench-{user}-{n}@customer.example>\r\n"
        "Date: Tue, 02 Jan 2024 10:00:00 +0000\r\n\r\nHello.\r\n"
    ).encode()


def _append(server: DovecotServer, user: str, raw: bytes) -> None:
    imap = imaplib.IMAP4(server.host, server.port, timeout=30)
    try:
        imap.login(user, PASSWORD)
        imap.append("INBOX", None, None, raw)
    finally:
        imap.logout()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def _bare_idle_latency(server: DovecotServer, user: str, rounds: int = 10) -> float:
    """The baseline: APPEND to a bare session's IDLE notification (median, seconds)."""
    imap = imaplib.IMAP4(server.host, server.port, timeout=30)
    imap.login(user, PASSWORD)
    imap.select("INBOX", readonly=True)
    latencies = []
    for n in range(rounds):
        tag = imap._new_tag()  # type: ignore[attr-defined]
        imap.send(tag + b" IDLE\r\n")
        imap.readline()  # "+ idling"
        appended = time.monotonic()
        threading.Thread(target=_append, args=(server, user, _letter(user, 90_000 + n))).start()
        while b"EXISTS" not in imap.readline():
            pass
        latencies.append(time.monotonic() - appended)
        imap.send(b"DONE\r\n")
        while not imap.readline().startswith(tag):
            pass
    imap.logout()
    return sorted(latencies)[len(latencies) // 2]


def _process_figures() -> dict[str, float]:
    status = Path("/proc/self/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {
        "rss_mb": int(fields["VmRSS"].split()[0]) / 1024,
        "threads": int(fields["Threads"].strip()),
    }


BASELINE_SECONDS = 20.0


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _run(server: DovecotServer, users: list[str], workdir: Path) -> dict[str, float]:
    kafka = local_kafka(workdir / "kafka").start()
    mongo = local_mongo(None, log_dir=workdir).start()
    try:
        await ensure_topics(kafka_bootstrap(kafka))
        config = PipelineConfig(
            kafka_bootstrap=kafka_bootstrap(kafka),
            mongo_uri=mongo_uri(mongo),
            signing_key=secrets.token_hex(32),
            identity_bind=f"127.0.0.1:{free_port()}",
            name="bench",
            outbound_allowed_networks="127.0.0.0/8",  # the local Dovecot
        )
        others = ProcessPipeline(config, workdir / "logs", free_port(), free_port())
        for name in ("identity-resolution", "intelligence", "access"):
            others.start_service(name)
        await wait_until_serving(f"127.0.0.1:{others.access_port}", 120)
        # The product's own sync timings (IDLE slices, polls of the other folders).
        settings = config.ingest()
        before = _process_figures()
        service = ingest_bootstrap.build(settings)
        await service.start()
        access = grpc.aio.insecure_channel(f"127.0.0.1:{others.access_port}")
        try:
            # Baseline in the same run: the same ingest with no mailbox (its consumers
            # and timers only; the stand-in broker answers empty fetches at once, which
            # the consumers pace, so this part is smaller on Kafka).
            await asyncio.sleep(5.0)
            without_mailboxes = await _idle_cpu(BASELINE_SECONDS)
            started = time.perf_counter()
            connecting = asyncio.Semaphore(16)  # as many members connecting at once

            async def connect(user: str) -> None:
                async with connecting:
                    await service.commands.connect(
                        Caller("bench-ws", user),
                        ImapConnection(
                            ImapEndpoint(server.host, server.port, "none", user, "password"),
                            PASSWORD,
                        ),
                        (f"{user}@northwind.io",),
                        None,
                        (),
                        datetime.now(UTC),
                    )

            await asyncio.gather(*(connect(user) for user in users))
            await _until_backfilled(service, len(users))
            backfill_seconds = time.perf_counter() - started
            await asyncio.sleep(5.0)  # settled into IDLE
            # A whole poll interval and more: every mailbox's poll of its folders counts.
            idle_cpu = await _idle_cpu(settings.poll_interval_seconds * 1.5)
            idle = _process_figures()
            visible = _Visibility(access_pb2_grpc.AccessServiceStub(access), config.signing_key)
            latencies, served = await _stream(server, users, settings.kafka_bootstrap, visible)
        finally:
            await access.close()
            await service.stop()
            others.stop()
    finally:
        mongo.stop()
        kafka.stop()
    bare = await asyncio.to_thread(_bare_idle_latency, server, users[0])
    p50 = _percentile(latencies, 0.50)
    return {
        "mailboxes": len(users),
        "backfill_seconds": backfill_seconds,
        "append_to_published_p50_s": p50,
        "append_to_published_p95_s": _percentile(latencies, 0.95),
        "append_to_published_p99_s": _percentile(latencies, 0.99),
        "append_to_access_serving_p50_s": _percentile(served, 0.50),
        "append_to_access_serving_p95_s": _percentile(served, 0.95),
        "append_to_access_serving_p99_s": _percentile(served, 0.99),
        "bare_idle_notification_p50_s": bare,
        "p50_ratio_vs_bare_idle": p50 / bare,
        "ingest_rss_mb": idle["rss_mb"],
        "rss_kb_per_mailbox": (idle["rss_mb"] - before["rss_mb"]) * 1024 / len(users),
        "threads": idle["threads"],
        "threads_per_mailbox": (idle["threads"] - before["threads"]) / len(users),
        "idle_cpu_share_of_a_core": idle_cpu,
        "idle_cpu_without_mailboxes": without_mailboxes,
        "idle_cpu_of_the_mailboxes_per_1000": (idle_cpu - without_mailboxes) * 1000 / len(users),
    }


async def _idle_cpu(seconds: float) -> float:
    """This process's CPU over `seconds` of wall time, as a share of one core."""
    idle_from, cpu_from = time.monotonic(), _cpu_seconds()
    await asyncio.sleep(seconds)
    return (_cpu_seconds() - cpu_from) / (time.monotonic() - idle_from)


async def _until_backfilled(service, count: int) -> None:
    backfilled = {"status.state": "idle", "status.last_success_at": {"$ne": None}}
    while await service.store._mailboxes.count_documents(backfilled) < count:  # noqa: ASYNC110
        await asyncio.sleep(1.0)


class _Visibility:
    """When access first serves a message to the member whose mailbox it is in."""

    def __init__(self, stub: access_pb2_grpc.AccessServiceStub, signing_key: str) -> None:
        self._stub = stub
        self._signing_key = signing_key

    async def served_at(self, user: str, message_key: str, deadline: float) -> float:
        token = issue_token(
            self._signing_key, Caller("bench-ws", user), issued_at=datetime.now(UTC)
        )
        metadata = (("authorization", f"Bearer {token}"),)
        request = access_pb2.CheckVisibilityRequest(message_keys=[message_key])
        while time.monotonic() < deadline:
            answer = await self._stub.CheckVisibility(request, metadata=metadata)
            if answer.levels[0] > access_pb2.VISIBILITY_LEVEL_NONE:  # METADATA or FULL
                return time.monotonic()
            await asyncio.sleep(0.02)
        raise RuntimeError(f"access never served {message_key}")


async def _stream(
    server: DovecotServer, users: list[str], bootstrap: str, visibility: _Visibility
) -> tuple[list[float], list[float]]:
    consumer = AIOKafkaConsumer(topics.INGEST_MESSAGES, bootstrap_servers=bootstrap)
    await consumer.start()
    await consumer.seek_to_end()
    for partition in consumer.assignment():
        await consumer.position(partition)
    arrived: dict[str, float] = {}
    served: dict[str, asyncio.Task[float]] = {}

    async def read() -> None:
        async for record in consumer:
            event = decode_event(header_map(record.headers or ()), record.value)
            if isinstance(event, MessageSynced) and event.subject not in arrived:
                arrived[event.subject] = time.monotonic()
                served[event.subject] = asyncio.create_task(
                    visibility.served_at(event.member_id, event.message_key, time.monotonic() + 120)
                )

    reader = asyncio.create_task(read())
    appended: dict[str, float] = {}
    chosen = random.Random(3)
    try:
        for n in range(APPENDS):
            user = chosen.choice(users)
            appended[f"bench {user}-{100 + n}"] = time.monotonic()
            await asyncio.to_thread(_append, server, user, _letter(user, 100 + n))
            await asyncio.sleep(APPEND_INTERVAL)
        deadline = time.monotonic() + 60
        while set(appended) - set(arrived) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    finally:
        reader.cancel()
        await consumer.stop()
    missing = set(appended) - set(arrived)
    if missing:
        raise RuntimeError(f"{len(missing)} appended messages never reached ingest.messages")
    return (
        [arrived[subject] - appended[subject] for subject in appended],
        [await served[subject] - appended[subject] for subject in appended],
    )


def run(mailboxes: int = 1000) -> dict[str, float]:
    users = [f"user{n}" for n in range(mailboxes)]
    workdir = Path(tempfile.mkdtemp(prefix="commsintel-bench-mailboxes-"))
    try:
        with running_dovecot(
            {user: PASSWORD for user in users}, connections=mailboxes + 50
        ) as server:
            for user in users:
                server.fill(user, (_letter(user, n) for n in range(2)))
            return asyncio.run(_run(server, users, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
