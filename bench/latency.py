"""Real time: from MessageSynced published to the attribute served by intelligence's gRPC
API, at a steady offered rate. Each message goes to a new person, so it is served once
identity has created the record and intelligence has folded the interaction.

The services run as separate `commsintel serve` processes. Baseline in the same run on
the same broker: a bare aiokafka produce -> consume round trip
at the same rate. Reports p50/p95/p99 of both, and how many messages were served.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from commsintel.contracts import ids
from commsintel.contracts.auth import Caller, issue_token
from commsintel.contracts.proto.intelligence.v1 import intelligence_pb2 as pb
from commsintel.contracts.proto.intelligence.v1 import intelligence_pb2_grpc as pb_grpc
from commsintel.contracts.topics import IDENTITY_INTERACTIONS
from commsintel.embedded import free_port, kafka_bootstrap, local_kafka, local_mongo, mongo_uri
from commsintel.pipeline import PipelineConfig
from commsintel.platform.streaming import EventPublisher, build_broker
from commsintel.platform.telemetry import configure_tracing
from tests.support.identity_scenario import Scenario
from tests.support.process_pipeline import ProcessPipeline

DRAIN_SECONDS = 120.0
POLL_INTERVAL = 0.02
POLL_IN_FLIGHT = 50


def _percentiles(latencies: list[float]) -> dict[str, float]:
    if len(latencies) < 2:
        return {"p50_ms": float("nan"), "p95_ms": float("nan"), "p99_ms": float("nan")}
    cuts = statistics.quantiles(latencies, n=100)
    return {"p50_ms": cuts[49] * 1000, "p95_ms": cuts[94] * 1000, "p99_ms": cuts[98] * 1000}


async def _bare_round_trip(bootstrap: str, rate: float, seconds: float) -> list[float]:
    topic = f"bench-latency-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=f"bare-{topic}",
        session_timeout_ms=10_000,
    )
    await producer.start()
    await consumer.start()
    latencies: list[float] = []
    total = int(rate * seconds)

    async def consume() -> None:
        while len(latencies) < total:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    latencies.append(time.perf_counter() - json.loads(record.value)["sent"])

    reader = asyncio.create_task(consume())
    try:
        started = time.perf_counter()
        for index in range(total):
            await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
            await producer.send(
                topic, json.dumps({"sent": time.perf_counter()}).encode(), key=b"ws"
            )
        await asyncio.wait_for(reader, DRAIN_SECONDS)
    finally:
        reader.cancel()
        await producer.stop()
        await consumer.stop()
    return latencies


async def _pipeline_latency(
    config: PipelineConfig, intelligence_target: str, rate: float, seconds: float, key: str
) -> dict[str, float]:
    workspace = f"latency-{uuid.uuid4().hex[:8]}"
    mail = Scenario(workspace_id=workspace)
    token = issue_token(key, Caller(workspace, "alice"), issued_at=datetime.now(UTC))
    metadata = (("authorization", f"Bearer {token}"),)
    broker = build_broker(config.kafka_bootstrap, configure_tracing("bench"), "bench")
    await broker.start()
    publisher = EventPublisher(broker)
    pending: dict[str, float] = {}
    latencies: list[float] = []
    total = int(rate * seconds)
    done = asyncio.Event()

    async def poll(channel) -> None:
        stub = pb_grpc.IntelligenceServiceStub(channel)

        async def served(record_id: str) -> bool:
            try:
                answer = await stub.GetRecordIntelligence(
                    pb.GetRecordIntelligenceRequest(record_id=record_id), metadata=metadata
                )
            except grpc.aio.AioRpcError as error:
                if error.code() == grpc.StatusCode.NOT_FOUND:
                    return False  # intelligence has not read the record yet
                raise
            return answer.intelligence.email_interaction_count > 0

        # Cheap enough not to slow the pipeline it measures (it shares the store): ask
        # about the oldest few; only when all of them are served, look further.
        while not done.is_set() or pending:
            size = 4
            while pending:
                oldest = sorted(pending, key=pending.get)[:size]
                results = await asyncio.gather(*(served(r) for r in oldest))
                now = time.perf_counter()
                for record_id, ok in zip(oldest, results, strict=True):
                    if ok:
                        latencies.append(now - pending.pop(record_id))
                if not all(results) or size >= POLL_IN_FLIGHT:
                    break
                size *= 2
            await asyncio.sleep(POLL_INTERVAL)

    # Where the time goes: when identity's InteractionResolved for each message is on
    # Kafka (seen by a consumer of this process, same clock as the publisher).
    published: dict[str, float] = {}
    resolved: dict[str, float] = {}
    observer = AIOKafkaConsumer(
        IDENTITY_INTERACTIONS,
        bootstrap_servers=config.kafka_bootstrap,
        group_id=f"bench-observer-{workspace}",
        auto_offset_reset="earliest",
        session_timeout_ms=10_000,
    )
    await observer.start()

    async def observe() -> None:
        while True:
            batches = await observer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batches.values():
                for record in records:
                    event = json.loads(record.value)
                    if event.get("workspace_id") == workspace:
                        resolved.setdefault(event["interaction_key"], now)

    async with grpc.aio.insecure_channel(intelligence_target) as channel:
        poller = asyncio.create_task(poll(channel))
        watcher = asyncio.create_task(observe())
        try:
            started = time.perf_counter()
            base = datetime.now(UTC) - timedelta(days=1)
            for index in range(total):
                await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
                address = f"p{index}@company{index % 50}.example.com"
                await publisher.publish(
                    [mail.sent(address, key=f"lat-{index}", at=base + timedelta(seconds=index))]
                )
                published[f"lat-{index}"] = time.perf_counter()
                pending[ids.person_id(workspace, address)] = published[f"lat-{index}"]
            offered = total / (time.perf_counter() - started)
            done.set()
            try:
                await asyncio.wait_for(asyncio.shield(poller), DRAIN_SECONDS)
            except TimeoutError:
                pass
        finally:
            poller.cancel()
            watcher.cancel()
            await observer.stop()
            await broker.stop()
    identity_stage = [resolved[key] - published[key] for key in published if key in resolved]
    return {
        "offered_msgs_per_s": offered,
        "served": len(latencies),
        "not_served_in_time": total - len(latencies),
        **_percentiles(latencies),
        # MessageSynced published -> identity's InteractionResolved on Kafka.
        **{f"identity_stage_{k}": v for k, v in _percentiles(identity_stage).items()},
    }


async def _run(workdir: Path, rate: float, seconds: float) -> dict[str, float]:
    kafka = local_kafka(workdir / "kafka").start()
    mongo = local_mongo(None, log_dir=workdir).start()
    try:
        key = secrets.token_hex(32)
        bare = _percentiles(await _bare_round_trip(kafka_bootstrap(kafka), rate, seconds))
        # The services run as processes of their own, as deployed, so the publisher here
        # is not slowed by the work it measures.
        config = PipelineConfig(kafka_bootstrap(kafka), mongo_uri(mongo), key)
        pipeline = ProcessPipeline(config, workdir / "logs", free_port(), free_port())
        await pipeline.start()
        try:
            target = f"127.0.0.1:{pipeline.intelligence_port}"
            figures = await _pipeline_latency(config, target, rate, seconds, key)
        finally:
            pipeline.stop()
    finally:
        mongo.stop()
        kafka.stop()
    return {
        **figures,
        **{f"bare_kafka_{name}": value for name, value in bare.items()},
        "p95_ratio_vs_bare": figures["p95_ms"] / bare["p95_ms"],
    }


def run(rate: float = 1000.0, seconds: float = 10.0) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as workdir:
        return asyncio.run(_run(Path(workdir), rate, seconds))
