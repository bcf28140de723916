"""`commsintel replay intelligence` on a synthetic workspace history, against a bare
aiokafka consumer reading (and `json.loads`-ing) the same topics in the same run.

The history is what identity would have published for a sales team: 10 members, 300
companies of 4 people each met with Zipf-like frequency over two years, emails (one to
three people of one company, the company too; some mass mail) and meetings, a few
sightings resolved again (merges) or to nothing (retractions), and one mailbox removed.
Both sides are timed whole: connect, read everything, stop; the replay also drops the
database, folds and writes every document.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer

from commsintel.contracts.events import InteractionRecord, InteractionResolved, MailboxRemoved
from commsintel.embedded import kafka_bootstrap, local_kafka, local_mongo, mongo_uri
from commsintel.intelligence import bootstrap
from commsintel.intelligence.adapters.store import IntelligenceStore
from commsintel.intelligence.config import IntelligenceSettings
from commsintel.platform.mongo import mongo_client
from commsintel.platform.streaming import EventPublisher, build_broker
from commsintel.platform.telemetry import configure_tracing
from commsintel.replay import assign_from_start, replay_service

WORKSPACE = "ws-replay-bench"
MEMBERS = 10
COMPANIES = 300
PEOPLE_PER_COMPANY = 4
START = datetime(2024, 11, 1, tzinfo=UTC)
SPAN = timedelta(days=730)


def synthetic_history(interactions: int, seed: int = 5) -> list:
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(COMPANIES)]
    events: list = []
    for number in range(interactions):
        member = rng.randrange(MEMBERS)
        company = rng.choices(range(COMPANIES), weights)[0]
        people = rng.sample(range(PEOPLE_PER_COMPANY), rng.randint(1, 3))
        meeting = rng.random() < 0.1
        role = rng.choice(("attendee", "declined")) if meeting else rng.choice(("to", "cc"))
        records = [
            InteractionRecord(record_id=f"person-{company}-{p}", record_kind="person", role=role)
            for p in people
        ]
        records.append(
            InteractionRecord(record_id=f"company-{company}", record_kind="company", role=role)
        )
        events.append(
            InteractionResolved(
                event_id=f"bench-{number}",
                workspace_id=WORKSPACE,
                interaction_key=f"<{number}@bench.example.com>",
                kind="calendar" if meeting else "email",
                mailbox_id=f"mb-{member}",
                member_id=f"member-{member}",
                occurred_at=START + SPAN * (number / interactions),
                direction=rng.choice(("sent", "received")),
                participant_count=15 if rng.random() < 0.05 else len(people) + 1,
                records=tuple(records),
            )
        )
        if number and rng.random() < 0.02:  # a sighting resolved again: merge or retraction
            earlier = events[rng.randrange(len(events))]
            if isinstance(earlier, InteractionResolved):
                kept = earlier.records[:1] if rng.random() < 0.5 else ()
                events.append(
                    earlier.model_copy(
                        update={"event_id": f"bench-{number}-again", "records": kept}
                    )
                )
    events.append(
        MailboxRemoved(
            event_id="bench-removed",
            workspace_id=WORKSPACE,
            mailbox_id="mb-9",
            member_id="member-9",
            removed_at=START + SPAN,
        )
    )
    return events


async def bare_read(bootstrap: str, topics) -> None:
    """Read and `json.loads` everything on `topics`, from the start to the end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions, ends = await assign_from_start(consumer, topics)
        while [p for p in partitions if await consumer.position(p) < ends[p]]:
            for records in (await consumer.getmany(timeout_ms=500, max_records=1000)).values():
                for record in records:
                    json.loads(record.value)
    finally:
        await consumer.stop()


async def _publish(bootstrap: str, events: list) -> None:
    broker = build_broker(bootstrap, configure_tracing("bench"), "bench")
    await broker.start()
    try:
        publisher = EventPublisher(broker)
        for start in range(0, len(events), 5000):
            await publisher.publish(events[start : start + 5000])
    finally:
        await broker.stop()


async def _run(workdir: Path, interactions: int, rounds: int) -> dict[str, float]:
    kafka = local_kafka(workdir / "kafka").start()
    mongo = local_mongo(None, log_dir=workdir).start()
    try:
        events = synthetic_history(interactions)
        await _publish(kafka_bootstrap(kafka), events)
        settings = IntelligenceSettings(
            kafka_bootstrap=kafka_bootstrap(kafka),
            mongo_uri=mongo_uri(mongo),
            mongo_database="bench_intelligence_replay",
            signing_key="bench-unused-" + "0" * 32,
        )
        bare_seconds, replay_seconds, read_and_fold_seconds = [], [], []
        after_each_batch: list = []
        for _ in range(rounds):
            started = time.perf_counter()
            await bare_read(kafka_bootstrap(kafka), bootstrap.INPUT_TOPICS)
            bare_seconds.append(time.perf_counter() - started)
            started = time.perf_counter()
            replayed = await replay_service(
                "intelligence",
                settings=settings,
                on_progress=lambda progress: after_each_batch.append(progress.seconds),
            )
            replay_seconds.append(time.perf_counter() - started)
            # The seconds of its last batch, before the documents are written.
            read_and_fold_seconds.append(after_each_batch[-1])
        client = mongo_client(settings.mongo_uri, "bench")
        documents = {
            name: [d async for d in client[settings.mongo_database][name].find({})]
            for name in ("interactions", "member_strengths")
        }
        store_floor = await _bare_store_load(client["bench_bare_store"], documents)
        await client.close()
    finally:
        mongo.stop()
        kafka.stop()
    bare, rebuilt = statistics.median(bare_seconds), statistics.median(replay_seconds)
    writing = statistics.median(
        total - folded for total, folded in zip(replay_seconds, read_and_fold_seconds, strict=True)
    )
    return {
        "records_on_topics": replayed.records,
        "bucket_documents": len(documents["interactions"]),
        "strength_documents": len(documents["member_strengths"]),
        "bare_read_records_per_s": replayed.records / bare,
        "replay_records_per_s": replayed.records / rebuilt,
        "replay_ratio_vs_bare": bare / rebuilt,
        # The replay's two phases: read, decode and fold in memory; then write every
        # document once and build the indexes. The second against the store's floor: the
        # same documents inserted by bare insert_many, the same indexes built after.
        "read_and_fold_ratio_vs_bare": bare / statistics.median(read_and_fold_seconds),
        "write_and_index_s": writing,
        "bare_store_load_s": store_floor,
        "write_ratio_vs_bare_store_load": store_floor / writing,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


async def _bare_store_load(database, documents: dict[str, list]) -> float:
    started = time.perf_counter()
    for name, found in documents.items():
        for start in range(0, len(found), 1000):
            await database[name].insert_many(found[start : start + 1000], ordered=False)
    await IntelligenceStore(database).ensure_indexes()
    return time.perf_counter() - started


def run(interactions: int = 100_000, rounds: int = 3) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as workdir:
        return asyncio.run(_run(Path(workdir), interactions, rounds))
