"""`make run`: the whole pipeline on one machine, from nothing.

Starts noida-db (Kafka protocol) and SecantusDB (MongoDB protocol) with their data under
.commsintel/, the four services, imports the bundled sample workspace, prints where the
gRPC APIs are and a summary, then serves until Ctrl-C. Running it again reuses the data:
every message is already synced, so nothing is duplicated.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc

from commsintel.contracts import topics
from commsintel.contracts.auth import Caller, dev_signing_key, issue_token
from commsintel.contracts.proto.access.v1 import access_pb2, access_pb2_grpc
from commsintel.contracts.proto.intelligence.v1 import intelligence_pb2, intelligence_pb2_grpc
from commsintel.dead_letter_admin import read_dead_letters
from commsintel.embedded import free_port, kafka_bootstrap, local_kafka, local_mongo, mongo_uri
from commsintel.ingest.adapters.crypto import dev_encryption_key
from commsintel.local_stack import (
    ENCRYPTION_KEY_FILE,
    GRPC_SERVICES,
    SIGNING_KEY_FILE,
    STACK_FILE,
    LocalStack,
    remove_stack,
    write_stack,
)
from commsintel.pipeline import InProcessPipeline, PipelineConfig
from commsintel.sample_mailboxes import SAMPLE_WORKSPACE, write_sample_mailboxes
from commsintel.workspace_admin import create_workspace

PREFERRED_PORTS = {
    "kafka": 19092,
    "mongo": 27018,
    "access": 50051,
    "intelligence": 50052,
    "identity": 50053,
    "ingest": 50054,
    "metrics": 9464,
}
# A stop within 10 s of the signal: the services, then the two servers.
STOP_SECONDS = 5.0
LEVELS = {
    value: name.removeprefix("STRENGTH_LEVEL_").replace("_", " ").lower()
    for name, value in intelligence_pb2.StrengthLevel.items()
}


def _port(name: str) -> int:
    preferred = PREFERRED_PORTS[name]
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            return free_port()


async def run_embedded(data_dir: Path, *, serve: bool = True) -> int:
    # Ctrl-C or SIGTERM at any stage cancels the run, so everything started is stopped.
    run = asyncio.current_task()
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def stop_once() -> None:
        # `uv run` forwards a SIGTERM that its process group also got: the second one
        # must not cut the stop short.
        if not stopping.is_set():
            stopping.set()
            run.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop_once)
    data_dir.mkdir(parents=True, exist_ok=True)
    signing_key = dev_signing_key(data_dir / SIGNING_KEY_FILE)
    encryption_key = dev_encryption_key(data_dir / ENCRYPTION_KEY_FILE)
    print(f"starting the local Kafka and MongoDB stand-ins (data in {data_dir}/)", flush=True)
    servers = []
    pipeline: InProcessPipeline | None = None
    try:
        kafka = local_kafka(data_dir / "kafka", _port("kafka")).start()
        servers.append(kafka)
        mongo = local_mongo(data_dir / "mongo", _port("mongo")).start()
        servers.append(mongo)
        config = PipelineConfig(
            kafka_bootstrap=kafka_bootstrap(kafka),
            mongo_uri=mongo_uri(mongo),
            signing_key=signing_key,
            access_bind=f"127.0.0.1:{_port('access')}",
            intelligence_bind=f"127.0.0.1:{_port('intelligence')}",
            identity_bind=f"127.0.0.1:{_port('identity')}",
            ingest_bind=f"127.0.0.1:{_port('ingest')}",
            encryption_key=encryption_key,
            # A local run connects mailboxes on this machine (a local Dovecot, say).
            outbound_allowed_networks="127.0.0.0/8,::1/128",
            metrics_bind=f"127.0.0.1:{_port('metrics')}",
        )
        pipeline = InProcessPipeline(config)
        await pipeline.start()
        stack_file = write_stack(data_dir, _stack_of(pipeline, data_dir))
        print("services started: ingest, identity-resolution, intelligence, access", flush=True)
        print(f"Kafka {config.kafka_bootstrap}  MongoDB {config.mongo_uri}", flush=True)
        print(f"addresses and key files: {stack_file}", flush=True)
        # The operator's step of every new workspace: its first admin (decision 0021).
        admin = SAMPLE_WORKSPACE.members[0]
        await create_workspace(
            pipeline.identity_target,
            signing_key,
            workspace_id=SAMPLE_WORKSPACE.workspace_id,
            admin_member_id=admin.member_id,
            addresses=[admin.address],
        )
        print(f"workspace {SAMPLE_WORKSPACE.workspace_id}: admin {admin.member_id}", flush=True)
        await _import_sample(pipeline, data_dir / "sample")
        print("waiting for identity-resolution, intelligence and access to catch up...", flush=True)
        await pipeline.wait_until_caught_up(timeout=900)
        token = issue_token(
            signing_key,
            Caller(SAMPLE_WORKSPACE.workspace_id, SAMPLE_WORKSPACE.members[0].member_id),
            issued_at=datetime.now(UTC),
        )
        await _print_summary(pipeline, token)
        if serve:
            print("\nserving; press Ctrl-C to stop", flush=True)
            await asyncio.Event().wait()
    except asyncio.CancelledError:
        run.uncancel()
        print("\ninterrupted", flush=True)
    finally:
        remove_stack(data_dir)
        try:
            if pipeline is not None:
                # Bounded: a consumer that does not leave its group in time is stopped
                # with its broker below (its offsets are committed per batch).
                await asyncio.wait_for(pipeline.stop(), STOP_SECONDS)
        except (TimeoutError, asyncio.CancelledError):
            print("services did not stop in time; stopping the servers", flush=True)
        finally:
            # No server is left running behind the user's back.
            for server in reversed(servers):
                server.stop(timeout=2.0)
            print("stopped", flush=True)
    return 0


def _stack_of(pipeline: InProcessPipeline, data_dir: Path) -> LocalStack:
    return LocalStack(
        kafka_bootstrap=pipeline.config.kafka_bootstrap,
        mongo_uri=pipeline.config.mongo_uri,
        grpc={
            "access": pipeline.access_target,
            "intelligence": pipeline.intelligence_target,
            "identity-resolution": pipeline.identity_target,
            "ingest": pipeline.ingest_target,
        },
        signing_key_file=str((data_dir / SIGNING_KEY_FILE).resolve()),
        encryption_key_file=str((data_dir / ENCRYPTION_KEY_FILE).resolve()),
        name=pipeline.config.name,
    )


def write_sample_calendar(path: Path, now: datetime) -> Path:
    """Alice's meetings around today, for the README's `commsintel import` of an .ics."""
    meetings = [
        ("security-review", -6, "Security review", "jose.martinez@castellan-security.es"),
        ("pilot-kickoff", 3, "Pilot kickoff", "jose.martinez@castellan-security.es"),
        ("logistics-qbr", 9, "Quarterly review", "sarah.oneill@acme-logistics.co.uk"),
    ]
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//commsintel//sample//EN"]
    for uid, days, summary, guest in meetings:
        start = (now + timedelta(days=days)).replace(hour=15, minute=0, second=0, microsecond=0)
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}@northwind.io",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{start.strftime('%Y%m%dT%H%M%SZ')}",
            f"DTEND:{(start + timedelta(hours=1)).strftime('%Y%m%dT%H%M%SZ')}",
            f"SUMMARY:{summary}",
            "ORGANIZER;CN=Alice Martin:mailto:alice@northwind.io",
            f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{guest}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\r\n".join(lines) + "\r\n")
    return path


async def _import_sample(pipeline: InProcessPipeline, directory: Path) -> None:
    mailboxes = write_sample_mailboxes(directory)
    write_sample_calendar(directory / "alice-calendar.ics", datetime.now(UTC))
    members = {member.member_id: member for member in SAMPLE_WORKSPACE.members}
    for member_id, path in mailboxes.items():
        member = members[member_id]

        def show(progress, member_id=member_id) -> None:
            print(
                f"\r  importing {member_id:<8} read {progress.read:>5}  new {progress.published:>5}"
                f"  already synced {progress.already_synced:>5}  quarantined "
                f"{progress.quarantined}",
                end="",
                flush=True,
            )

        await pipeline.ingest.import_archive(
            path,
            workspace_id=SAMPLE_WORKSPACE.workspace_id,
            member_id=member_id,
            owner_address=member.address,
            on_progress=show,
        )
        print(flush=True)


async def _print_summary(pipeline: InProcessPipeline, token: str) -> None:
    metadata = (("authorization", f"Bearer {token}"),)
    async with (
        grpc.aio.insecure_channel(pipeline.access_target) as access_channel,
        grpc.aio.insecure_channel(pipeline.intelligence_target) as intelligence_channel,
    ):
        access = access_pb2_grpc.AccessServiceStub(access_channel)
        intelligence = intelligence_pb2_grpc.IntelligenceServiceStub(intelligence_channel)
        counts = {access_pb2.RECORD_KIND_PERSON: 0, access_pb2.RECORD_KIND_COMPANY: 0}
        page_token = ""
        while True:
            page = await access.ListRecords(
                access_pb2.ListRecordsRequest(page_size=500, page_token=page_token),
                metadata=metadata,
            )
            for record in page.records:
                counts[record.kind] += 1
            page_token = page.next_page_token
            if not page_token:
                break
        strongest = await intelligence.ListStrongestConnections(
            intelligence_pb2.ListStrongestConnectionsRequest(limit=10), metadata=metadata
        )
        rows = []
        for item in strongest.records:
            record = await access.GetRecord(
                access_pb2.GetRecordRequest(record_id=item.record_id), metadata=metadata
            )
            label = record.record.email_address or ", ".join(record.record.domains)
            rows.append(
                (
                    record.record.name or label,
                    label,
                    item.strongest_member_id,
                    item.connection_strength,
                    LEVELS.get(item.level, "?"),
                )
            )

    print()
    targets = {
        "access": pipeline.access_target,
        "intelligence": pipeline.intelligence_target,
        "identity-resolution": pipeline.identity_target,
        "ingest": pipeline.ingest_target,
    }
    print(f"Kafka    {pipeline.config.kafka_bootstrap}")
    print(f"MongoDB  {pipeline.config.mongo_uri}")
    for service, names in GRPC_SERVICES.items():
        print(f"gRPC {targets[service]:<16} {', '.join(names)}  ({service})")
    print("every gRPC server offers health checking and reflection")
    print(f"Prometheus metrics  http://{pipeline.config.metrics_bind}/metrics")
    print(
        f"workspace {SAMPLE_WORKSPACE.workspace_id}: "
        f"{counts[access_pb2.RECORD_KIND_PERSON]} people, "
        f"{counts[access_pb2.RECORD_KIND_COMPANY]} companies"
    )
    poison = {}
    for topic in topics.ALL_TOPICS:
        letters = await read_dead_letters(pipeline.config.kafka_bootstrap, topic)
        if waiting := sum(not letter.redriven for letter in letters):
            poison[topics.dead_letter_topic(topic)] = waiting
    print(
        "dead letters: "
        + (", ".join(f"{t} {n}" for t, n in poison.items()) or "none")
        + ("  (`commsintel dlq list TOPIC`)" if poison else "")
    )
    print()
    print(f"{'strongest connections':<32} {'record':<34} {'member':<8} {'strength':>8}  level")
    for name, label, member, strength, level in rows:
        print(f"{name[:32]:<32} {label[:34]:<34} {member:<8} {strength:>8.2f}  {level}")
    print()
    print(f"the other commands find this stack through {STACK_FILE} in the data directory")
    print("a bearer token for the first member (valid 12 hours):")
    print(f"  {token}")
    print(
        'try: grpcurl -plaintext -H "authorization: Bearer $TOKEN" '
        f"{pipeline.access_target} commsintel.access.v1.AccessService/ListRecords"
    )
