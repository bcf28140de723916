"""Identity resolution at scale: a synthetic workspace with N distinct external addresses
(default 1,000,000) resolved by the real handlers against the MongoDB-protocol server,
state in MongoDB (nothing kept between batches), output events counted, not published.

Reports messages/s, MongoDB writes per message, and peak RSS of this process (the
handlers plus the client; the server is another process). The baseline, measured in the
same run on the same server: bare `bulk_write` of 1,000 upserts per batch.
"""

from __future__ import annotations

import asyncio
import random
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pymongo import UpdateOne
from pymongo.errors import OperationFailure

from commsintel.contracts.events import MessageParticipant, MessageSynced
from commsintel.embedded import local_mongo, mongo_uri
from commsintel.identity.adapters.store import IdentityStore
from commsintel.identity.service_layer.handlers import IdentityHandlers
from commsintel.platform.mongo import mongo_client
from commsintel.replay import DiscardingPublisher

BATCH = 500
RECIPIENTS = 4
START = datetime(2024, 1, 1, tzinfo=UTC)


def synthetic_messages(addresses: int, seed: int = 11):
    """Sent and received mail for one member: every address appears at least once, about
    half of the recipients are people seen before. Companies: one per 20 addresses."""
    rng = random.Random(seed)
    owner = "alice@ours-bench.com"
    seen = 0
    number = 0
    while seen < addresses:
        recipients = []
        for _ in range(RECIPIENTS):
            if seen < addresses and (seen < 10 or rng.random() < 0.5):
                index, seen = seen, seen + 1
            else:
                index = rng.randrange(seen)
            recipients.append(f"p{index}@company{index // 20}.example.com")
        sent = rng.random() < 0.7
        sender = owner if sent else recipients[0]
        participants = [MessageParticipant(role="from", address=sender, display_name="")]
        participants += [
            MessageParticipant(role="to", address=a) for a in recipients if a != sender
        ]
        if not sent:
            participants.append(MessageParticipant(role="to", address=owner))
        number += 1
        yield MessageSynced(
            event_id=f"bench-{number}",
            workspace_id="bench",
            mailbox_id="mb",
            member_id="alice",
            mailbox_owner_addresses=(owner,),
            message_key=f"m{number}",
            thread_key=f"m{number}",
            subject="",
            sent_at=START + timedelta(minutes=number),
            direction="sent" if sent else "received",
            participants=tuple(participants),
        )


async def _bare_upserts(uri: str, operations: int) -> float:
    client = mongo_client(uri, "bench-baseline")
    collection = client["bench_baseline"]["upserts"]
    started = time.perf_counter()
    for first in range(0, operations, 1000):
        await collection.bulk_write(
            [
                UpdateOne(
                    {"_id": f"k{i}"}, {"$set": {"value": i, "workspace_id": "bench"}}, upsert=True
                )
                for i in range(first, min(first + 1000, operations))
            ],
            ordered=False,
        )
    elapsed = time.perf_counter() - started
    await client.close()
    return operations / elapsed


class CountingStore(IdentityStore):
    writes = 0

    async def save(self, state) -> None:
        self.writes += 1 + sum(
            len(s)
            for s in (
                state.dirty_contacts,
                state.dirty_people,
                state.dirty_companies,
                state.new_interactions | state.dirty_resolutions,
            )
        )
        await super().save(state)


async def _run(uri: str, addresses: int, on_progress) -> dict[str, float]:
    baseline = await _bare_upserts(uri, 20_000)
    client = mongo_client(uri, "bench-identity")
    store = CountingStore(client["bench_identity"])
    await store.ensure_indexes()
    publisher = DiscardingPublisher()
    handlers = IdentityHandlers(store, publisher)
    messages, batch = 0, []
    started = time.perf_counter()
    retried = 0

    async def handle(batch: list) -> None:
        # The stand-in has failed a bulk write with a bare "internal server error" deep
        # into a long run; the handlers are idempotent, so the batch is simply run again
        # (as Kafka would redeliver it), and the retries are counted in the figures.
        nonlocal retried
        for attempt in range(5):
            try:
                await handlers.handle_batch(batch)
                return
            except OperationFailure as failure:
                if failure.code != 1 or attempt == 4:
                    raise
                retried += 1
                print(f"  ... store failed ({failure}); batch retried", flush=True)
                await asyncio.sleep(2)

    for message in synthetic_messages(addresses):
        batch.append(message)
        if len(batch) == BATCH:
            await handle(batch)
            messages += len(batch)
            batch = []
            on_progress(messages, time.perf_counter() - started)
    if batch:
        await handle(batch)
        messages += len(batch)
    elapsed = time.perf_counter() - started
    await client.close()
    writes_per_message = store.writes / messages
    return {
        "distinct_addresses": addresses,
        "messages": messages,
        "messages_per_s": messages / elapsed,
        "mongo_writes_per_message": writes_per_message,
        "bare_bulk_upserts_per_s": baseline,
        "write_rate_ratio_vs_bare": (messages * writes_per_message / elapsed) / baseline,
        "events_out": publisher.count,
        "batches_retried_after_store_errors": retried,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run(addresses: int = 1_000_000) -> dict[str, float]:
    def show(messages: int, seconds: float) -> None:
        if messages % 20_000 == 0:
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"  ... {messages} messages, {messages / seconds:.0f}/s, peak RSS {rss:.0f} MB",
                flush=True,
            )

    # The server's log is kept where it can be read after the run.
    log_dir = Path(tempfile.gettempdir()) / "commsintel-bench-identity"
    log_dir.mkdir(exist_ok=True)
    # A million addresses outgrow the stand-in's default 1G WiredTiger cache (it then
    # fails writes with WT_CACHE_FULL); a real MongoDB sizes its cache from the RAM.
    server = local_mongo(None, log_dir=log_dir, cache_size="8G").start()
    try:
        return asyncio.run(_run(mongo_uri(server), addresses, show))
    finally:
        server.stop()
