"""Telemetry of the running pipeline: one message's journey through all four services is
one trace, and `/metrics` serves the instruments the Grafana dashboards query."""

from __future__ import annotations

import asyncio
import imaplib
import json
import re
import time
import urllib.request
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from aiokafka import AIOKafkaProducer
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from commsintel.contracts.auth import Caller, issue_token
from commsintel.contracts.proto.access.v1 import access_pb2 as pb
from commsintel.contracts.proto.access.v1 import access_pb2_grpc as pb_grpc
from commsintel.contracts.proto.ingest.v1 import ingest_pb2, ingest_pb2_grpc
from commsintel.pipeline import SERVICES, InProcessPipeline
from commsintel.platform import telemetry
from commsintel.platform.metrics import metrics_port
from tests.support.local_dovecot import DovecotFailed, DovecotUnavailable, running_dovecot

pytestmark = [pytest.mark.kafka, pytest.mark.mongo, pytest.mark.e2e]

DASHBOARDS = Path(__file__).parents[2] / "deploy" / "grafana" / "dashboards"
MESSAGE = (
    "From: Alice Owner <alice@ours.com>\n"
    "To: Bob Buyer <bob@acme.com>\n"
    "Subject: Renewal\n"
    "Date: Sat, 10 Jan 2026 09:00:00 +0000\n"
    "Message-ID: <trace-1@ours.com>\n\n"
    "Hello Bob.\n"
)


@pytest.fixture
def span_exporter():
    """Every service's spans, collected in memory (the services share this process)."""
    exporter = InMemorySpanExporter()
    saved = dict(telemetry._providers)
    for service in SERVICES:
        telemetry.configure_tracing(service, exporter)
    try:
        yield exporter
    finally:
        telemetry._providers.clear()
        telemetry._providers.update(saved)


@pytest.fixture
async def traced_pipeline(pipeline_config, span_exporter):
    running = await InProcessPipeline(replace(pipeline_config, metrics_bind="127.0.0.1:0")).start()
    try:
        yield running
    finally:
        await running.stop()


async def _import_one_message(pipeline: InProcessPipeline, tmp_path: Path) -> None:
    archive = tmp_path / "one.eml"
    archive.write_text(MESSAGE)
    workspace = f"w-{uuid.uuid4().hex[:8]}"
    progress = await pipeline.ingest.import_archive(
        archive, workspace_id=workspace, member_id="alice", owner_address="alice@ours.com"
    )
    assert progress.published == 1, progress
    await pipeline.wait_until_caught_up()


async def test_one_message_is_one_trace_across_the_four_services(
    traced_pipeline, span_exporter, tmp_path
):
    await _import_one_message(traced_pipeline, tmp_path)
    await asyncio.sleep(0.5)  # the consumers' spans end as their batch commits
    spans = span_exporter.get_finished_spans()

    created = [
        s
        for s in spans
        if s.name == "commsintel.journey"
        and s.attributes["cloudevents.event_type"] == "commsintel.ingest.MessageSynced.v1"
    ]
    assert len(created) == 1, [s.name for s in spans]
    trace_id = created[0].context.trace_id
    in_trace = [s for s in spans if s.context.trace_id == trace_id]
    services = {s.resource.attributes["service.name"] for s in in_trace}
    assert services == set(SERVICES), sorted((s.name, s.resource.attributes) for s in in_trace)

    # Each consuming service processed the message in that trace (messaging conventions).
    processing = {
        (s.resource.attributes["service.name"], s.attributes["messaging.destination.name"])
        for s in in_trace
        if s.name.endswith(" process") and s.attributes.get("messaging.operation.type")
    }
    assert {
        ("identity-resolution", "ingest.messages"),
        ("access", "ingest.messages"),
        ("intelligence", "identity.interactions"),
        ("access", "identity.interactions"),
    } <= processing
    # Identity's InteractionResolved went out in the message's trace.
    assert any(
        s.name == "identity.interactions publish"
        and s.resource.attributes["service.name"] == "identity-resolution"
        for s in in_trace
    ), sorted(s.name for s in in_trace)
    # The batches that carried it link to its trace.
    linked = [
        s
        for s in spans
        if s.context.trace_id != trace_id
        and any(link.context.trace_id == trace_id for link in s.links)
    ]
    assert linked


def _exported_names(text: str) -> set[str]:
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            names.add(name)
            if kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
            if kind == "counter":
                names |= {name, f"{name}_total"}
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def dashboard_metric_names() -> set[str]:
    """Every metric a dashboard's PromQL queries: the names left once label matchers,
    grouping clauses and range selectors are taken out, less PromQL's own words."""
    names = set()
    for path in DASHBOARDS.glob("*.json"):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", ()):
                expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", target["expr"])
                expr = re.sub(r"\b(?:by|without)\s*\([^)]*\)", " ", expr)
                for word in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr):
                    is_function = expr[word.end() :].lstrip().startswith("(")
                    if not is_function and word.group() not in PROMQL_WORDS:
                        names.add(word.group())
    return names


def dashboard_label_names() -> set[str]:
    """The labels the dashboards group by (Prometheus' own job and instance aside)."""
    labels = set()
    for path in DASHBOARDS.glob("*.json"):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", ()):
                for clause in re.findall(r"\bby\s*\(([^)]*)\)", target["expr"]):
                    labels |= {label.strip() for label in clause.split(",")}
    return labels - {"le", "job", "instance"}


PROMQL_WORDS = {"by", "without", "on", "ignoring", "and", "or", "unless", "le", "bool"}


async def test_metrics_endpoint_serves_every_metric_the_dashboards_query(traced_pipeline, tmp_path):
    await _import_one_message(traced_pipeline, tmp_path)
    # One poison record: dead-lettered, counted as failed.
    producer = AIOKafkaProducer(bootstrap_servers=traced_pipeline.config.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait("ingest.messages", b"not an event", key=b"w-poison")
    finally:
        await producer.stop()
    await traced_pipeline.wait_until_caught_up()
    # One gRPC call, refused (no token): rpc.server.duration with its status code.
    async with grpc.aio.insecure_channel(traced_pipeline.access_target) as channel:
        with pytest.raises(grpc.aio.AioRpcError):
            await pb_grpc.AccessServiceStub(channel).ListRecords(pb.ListRecordsRequest())

    port = metrics_port("127.0.0.1:0")
    assert port
    body = await asyncio.to_thread(
        lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
    )
    text = body.decode()
    exported = _exported_names(text)

    wanted = dashboard_metric_names()
    assert wanted, "the dashboards query no metric"
    assert wanted <= exported, sorted(wanted - exported)
    for label in dashboard_label_names():
        assert f'{label}="' in text, label

    group = f"{traced_pipeline.config.name}-identity-resolution"
    assert re.search(
        rf'commsintel_events_handled_total\{{[^}}]*messaging_consumer_group_name="{group}"', text
    )
    assert re.search(
        r'commsintel_dead_letters_total\{[^}]*messaging_destination_name="ingest.messages"', text
    )
    unauthenticated = r'rpc_server_duration_milliseconds_count\{[^}]*rpc_grpc_status_code="16"'
    assert re.search(unauthenticated, text)
    assert re.search(r'commsintel_consumer_lag\{[^}]*messaging_consumer_group_name="', text)
    assert re.search(r'db_client_operation_duration_seconds_count\{[^}]*db_operation_name="', text)


def _scrape() -> str:
    port = metrics_port("127.0.0.1:0")
    assert port
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        return answer.read().decode()


def _sample(text: str, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(rf"{name}(?:\{{(.*)\}})? (\S+)$", line)
        if match and all(f'{k}="{v}"' in (match.group(1) or "") for k, v in labels.items()):
            total += float(match.group(2))
    return total


async def test_an_imap_sync_is_metered_and_each_message_is_one_trace(
    traced_pipeline, span_exporter, signing_key
):
    try:
        dovecot = running_dovecot({"dana": "secret"})
        server = dovecot.__enter__()
    except DovecotUnavailable as missing:
        pytest.skip(str(missing))
    except DovecotFailed as failed:
        pytest.fail(str(failed))
    try:
        imap = imaplib.IMAP4("127.0.0.1", server.port, timeout=10)
        imap.login("dana", "secret")
        imap.append("INBOX", None, None, MESSAGE.replace("\n", "\r\n").encode())
        imap.logout()
        workspace = f"ws-{uuid.uuid4().hex[:8]}"
        token = issue_token(signing_key, Caller(workspace, "dana"), issued_at=datetime.now(UTC))
        async with grpc.aio.insecure_channel(traced_pipeline.ingest_target) as channel:
            await ingest_pb2_grpc.MailboxServiceStub(channel).ConnectMailbox(
                ingest_pb2.ConnectMailboxRequest(
                    imap=ingest_pb2.ImapCredentials(
                        host="127.0.0.1",
                        port=server.port,
                        security=ingest_pb2.IMAP_SECURITY_NONE,
                        username="dana",
                        password="secret",
                    ),
                    owner_addresses=["alice@ours.com"],
                ),
                metadata=(("authorization", f"Bearer {token}"),),
            )
        # The backfill of one message ends; the sync then idles on its IMAP connection.
        deadline = time.monotonic() + 60
        while True:
            text = await asyncio.to_thread(_scrape)
            idle = _sample(text, "commsintel_mailboxes", commsintel_sync_state="idle")
            if idle >= 1 and _sample(text, "commsintel_imap_connections") >= 1:
                break
            assert time.monotonic() < deadline, "the mailbox never went idle"
            await asyncio.sleep(0.2)
        assert _sample(text, "commsintel_backfill_backlog") == 0
        await traced_pipeline.wait_until_caught_up()
        await asyncio.sleep(0.5)

        spans = span_exporter.get_finished_spans()
        (sync_pass,) = [s for s in spans if s.name == "ingest.sync_pass"][:1]
        (journey,) = [
            s
            for s in spans
            if s.name == "commsintel.journey"
            and any(link.context.span_id == sync_pass.context.span_id for link in s.links)
        ]
        in_trace = {
            s.resource.attributes["service.name"]
            for s in spans
            if s.context.trace_id == journey.context.trace_id
        }
        assert in_trace == set(SERVICES)
    finally:
        dovecot.__exit__(None, None, None)
