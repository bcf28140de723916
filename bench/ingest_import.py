"""Archive import at scale: an N-message mbox (default 100,000) of the mixed corpus
(bench/corpus.py), streamed to a temporary directory, then imported through the ingest
service the way a member's upload is (`bootstrap.build` + `IngestService.import_archive`:
parsing, quarantine, content store, blocklist, Kafka, sightings) against the local
Kafka-protocol broker and MongoDB-protocol server.

Reports messages/s and the peak RSS of this process during the import (the servers are
processes of their own). Baselines in the same run, on the same file and the same broker:
- bare read and parse: `mailbox.mbox` iteration and `email.message_from_bytes` of every
  message of the same mbox;
- bare publish: an aiokafka producer sending ~1 KB records, 500 per batch, each batch
  awaited (what the import does per batch), as many as the import published (at most
  20,000).
"""

from __future__ import annotations

import asyncio
import email
import inspect
import mailbox
import resource
import secrets
import tempfile
import threading
import time
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.corpus import OWNER, write_mbox
from commsintel.contracts import topics
from commsintel.embedded import kafka_bootstrap, local_kafka, local_mongo, mongo_uri
from commsintel.ingest import bootstrap as ingest_bootstrap
from commsintel.ingest.adapters.crypto import encode_key, new_key
from commsintel.ingest.config import IngestSettings

BARE_TOPIC = "bench.bare-publish"
BARE_PUBLISH_LIMIT = 20_000


def _status_mb(field: str) -> float | None:
    """VmHWM (peak) or VmRSS of this process from /proc, in MB; None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    """Start VmHWM again from the current RSS (Linux >= 4.0), so the peak is the import's
    and not the corpus generator's; False when this kernel does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float:
    peak = _status_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Progress:
    """Prints a line every `step` messages read, from the import's progress callback, and
    every 30 s from a watcher thread in case a batch takes long."""

    def __init__(self, total: int) -> None:
        self.total, self.step = total, max(1000, total // 10)
        self.read = self.published = 0
        self.started = time.perf_counter()
        self._next = self.step
        self._done = threading.Event()
        self._watcher = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> _Progress:
        self.started = time.perf_counter()
        self._watcher.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._watcher.join()

    def update(self, progress) -> None:
        self.read, self.published = progress.read, progress.published
        if self.read >= self._next:
            self._next = (self.read // self.step + 1) * self.step
            self._print()

    def _watch(self) -> None:
        while not self._done.wait(30):
            self._print()

    def _print(self) -> None:
        seconds = time.perf_counter() - self.started
        print(
            f"  ... {self.read:,}/{self.total:,} read, {self.published:,} published, "
            f"{self.read / seconds:.0f} msg/s, RSS {_status_mb('VmRSS') or 0:.0f} MB, "
            f"peak {_peak_rss_mb():.0f} MB",
            flush=True,
        )


def _settings(bootstrap: str, mongo: str) -> IngestSettings:
    # Only ingest is imported (not commsintel.pipeline, which brings every service):
    # the peak RSS is that of an ingest process.
    return IngestSettings(
        kafka_bootstrap=bootstrap,
        mongo_uri=mongo,
        mongo_database="bench_ingest",
        consumer_group="bench-ingest",
        grpc_bind="127.0.0.1:0",
        signing_key=secrets.token_hex(32),
        encryption_key=encode_key(new_key()),
        sync_mailboxes=False,
    )


async def _ensure_topics(bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        missing = set(topics.ALL_TOPICS) - set(await admin.list_topics())
        await admin.create_topics([NewTopic(name, 3, 1) for name in sorted(missing)])
    finally:
        await admin.close()


async def _import(settings: IngestSettings, path: Path, total: int) -> tuple[object, float]:
    service = ingest_bootstrap.build(settings)
    await service.start()
    try:
        with _Progress(total) as shown:
            extra = {}
            if "on_progress" in inspect.signature(service.import_archive).parameters:
                extra["on_progress"] = shown.update
            started = time.perf_counter()
            progress = await service.import_archive(
                path, workspace_id="bench", member_id="robin", owner_address=OWNER[1], **extra
            )
            return progress, time.perf_counter() - started
    finally:
        await service.stop()


def _bare_read_and_parse(path: Path) -> tuple[int, float]:
    started = time.perf_counter()
    box = mailbox.mbox(path, create=False)
    count = 0
    try:
        for key in box.iterkeys():
            email.message_from_bytes(box.get_bytes(key))
            count += 1
    finally:
        box.close()
    return count, time.perf_counter() - started


async def _bare_publish(bootstrap: str, records: int) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    value = b'{"payload": "' + b"x" * 1000 + b'"}'
    try:
        started = time.perf_counter()
        for first in range(0, records, 500):
            batch = [
                await producer.send(BARE_TOPIC, value, key=f"k{n}".encode())
                for n in range(first, min(first + 500, records))
            ]
            await asyncio.gather(*batch)
        return records / (time.perf_counter() - started)
    finally:
        await producer.stop()


def run(messages: int = 100_000) -> dict[str, float]:
    # A broker still flushing as it stops must not cost the figures: cleanup is best effort.
    with tempfile.TemporaryDirectory(prefix="bench-import-", ignore_cleanup_errors=True) as workdir:
        directory = Path(workdir)
        path = directory / "corpus.mbox"
        print(f"  writing a {messages:,}-message mbox to {path} ...", flush=True)
        started = time.perf_counter()
        size = write_mbox(
            path,
            messages,
            on_progress=lambda n: print(f"  ... {n:,} messages written", flush=True),
        )
        print(
            f"  {size / 1e6:,.0f} MB written in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        kafka = local_kafka(directory / "kafka").start()
        # On disk, not in memory: the content store keeps every attachment (GridFS).
        mongo = local_mongo(directory / "mongo", log_dir=directory).start()
        try:
            settings = _settings(kafka_bootstrap(kafka), mongo_uri(mongo))
            asyncio.run(_ensure_topics(settings.kafka_bootstrap))
            rss_before = _status_mb("VmRSS") or 0.0
            exact_peak = _reset_peak_rss()
            progress, seconds = asyncio.run(_import(settings, path, messages))
            peak = _peak_rss_mb()
            print(
                f"  import done: {messages / seconds:.1f} msg/s, peak RSS {peak:.0f} MB; "
                "baselines: bare read + parse, bare publish ...",
                flush=True,
            )
            parsed, bare_seconds = _bare_read_and_parse(path)
            published = getattr(progress, "published", 0)
            publish_rate = asyncio.run(
                _bare_publish(settings.kafka_bootstrap, max(1, min(published, BARE_PUBLISH_LIMIT)))
            )
            print(
                f"  bare read + parse {parsed / bare_seconds:.0f} msg/s, "
                f"bare publish {publish_rate:.0f} msg/s",
                flush=True,
            )
        finally:
            mongo.stop()
            kafka.stop()
    rate = messages / seconds
    figures: dict[str, float] = {
        "messages": messages,
        "mbox_mb": size / 1e6,
        "import_msgs_per_s": rate,
        "import_seconds": seconds,
    }
    figures |= {
        f"imported_{name}": value
        for name, value in vars(progress).items()
        if isinstance(value, int) and name != "read"
    }
    figures |= {
        "peak_rss_mb_during_import": peak,
        "peak_rss_exact_for_import": "yes" if exact_peak else "no (whole process)",
        "rss_mb_before_import": rss_before,
        "bare_read_parse_msgs_per_s": parsed / bare_seconds,
        "import_ratio_vs_bare_read_parse": rate / (parsed / bare_seconds),
        "bare_publish_msgs_per_s": publish_rate,
        "import_ratio_vs_bare_publish": rate / publish_rate,
    }
    return figures
