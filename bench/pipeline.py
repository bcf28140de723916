"""End to end: import the sample workspace and wait until identity-resolution,
intelligence and access have committed everything, against a bare aiokafka consumer
(`getmany`, `json.loads` per value) reading the same MessageSynced records from the same
broker in the same run."""

from __future__ import annotations

import asyncio
import json
import secrets
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer

from commsintel.contracts.topics import INGEST_MESSAGES
from commsintel.embedded import kafka_bootstrap, local_kafka, local_mongo, mongo_uri
from commsintel.pipeline import InProcessPipeline, PipelineConfig
from commsintel.sample_mailboxes import SAMPLE_WORKSPACE, write_sample_mailboxes


async def _bare_consumer(bootstrap: str, expected: int) -> float:
    consumer = AIOKafkaConsumer(
        INGEST_MESSAGES,
        bootstrap_servers=bootstrap,
        group_id=f"bare-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        session_timeout_ms=10_000,
    )
    await consumer.start()
    try:
        started, seen = time.perf_counter(), 0
        while seen < expected:
            batches = await consumer.getmany(timeout_ms=1000, max_records=500)
            for records in batches.values():
                for record in records:
                    json.loads(record.value)
                    seen += 1
        return time.perf_counter() - started
    finally:
        await consumer.stop()


async def _run(workdir: Path) -> dict[str, float]:
    kafka = local_kafka(workdir / "kafka").start()
    mongo = local_mongo(None, log_dir=workdir).start()
    try:
        config = PipelineConfig(kafka_bootstrap(kafka), mongo_uri(mongo), secrets.token_hex(32))
        pipeline = await InProcessPipeline(config).start()
        try:
            mailboxes = write_sample_mailboxes(workdir / "sample")
            members = {m.member_id: m for m in SAMPLE_WORKSPACE.members}
            started = time.perf_counter()
            published = 0
            for member_id, path in mailboxes.items():
                progress = await pipeline.ingest.import_archive(
                    path,
                    workspace_id=SAMPLE_WORKSPACE.workspace_id,
                    member_id=member_id,
                    owner_address=members[member_id].address,
                )
                published += progress.published
            imported = time.perf_counter() - started
            await pipeline.wait_until_caught_up(timeout=1800)
            end_to_end = time.perf_counter() - started
        finally:
            await pipeline.stop()
        bare = await _bare_consumer(kafka_bootstrap(kafka), published)
    finally:
        mongo.stop()
        kafka.stop()
    return {
        "messages": published,
        "import_msgs_per_s": published / imported,
        "end_to_end_msgs_per_s": published / end_to_end,
        "bare_consumer_msgs_per_s": published / bare,
        "end_to_end_ratio_vs_bare_consumer": bare / end_to_end,
    }


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as workdir:
        return asyncio.run(_run(Path(workdir)))
