"""IMAP backfill: a mailbox of N messages on the local Dovecot, connected through the
MailboxService commands and synced to idle (parse, content store, blocklist, publish,
sightings, cursors), against a bare imaplib reader that fetches the same messages
(`UID FETCH ... BODY.PEEK[]` in batches of 200) from the same server in the same run."""

from __future__ import annotations

import asyncio
import imaplib
import resource
import secrets
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.corpus import synthetic_messages
from commsintel.contracts.auth import Caller
from commsintel.embedded import kafka_bootstrap, local_kafka, local_mongo, mongo_uri
from commsintel.ingest import bootstrap as ingest_bootstrap
from commsintel.ingest.adapters.crypto import encode_key, new_key
from commsintel.ingest.config import IngestSettings
from commsintel.ingest.domain.mailboxes import ImapEndpoint
from commsintel.ingest.service_layer.mailbox_commands import ImapConnection
from commsintel.pipeline import ensure_topics
from tests.support.local_dovecot import DovecotServer, running_dovecot

USER, PASSWORD = "bench", "bench-password"
BATCH = 200


def _fill_maildir(server: DovecotServer, count: int) -> int:
    """Messages written straight into the user's Maildir (APPEND of 20,000 messages would
    measure Dovecot's delivery, not our sync); Dovecot indexes them on first access."""
    return server.fill(USER, synthetic_messages(count, seed=41))


def _bare_fetch(server: DovecotServer) -> tuple[int, float]:
    imap = imaplib.IMAP4(server.host, server.port, timeout=60)
    try:
        imap.login(USER, PASSWORD)
        imap.select("INBOX", readonly=True)
        _, data = imap.uid("SEARCH", "ALL")
        uids = data[0].split()
        started, fetched = time.perf_counter(), 0
        for start in range(0, len(uids), BATCH):
            chunk = b",".join(uids[start : start + BATCH]).decode()
            _, items = imap.uid("FETCH", chunk, "(UID BODY.PEEK[])")
            fetched += sum(1 for item in items if isinstance(item, tuple))
        return fetched, time.perf_counter() - started
    finally:
        imap.logout()


async def _backfill(server: DovecotServer, workdir: Path, count: int) -> tuple[float, int]:
    kafka = local_kafka(workdir / "kafka").start()
    mongo = local_mongo(None, log_dir=workdir).start()
    try:
        await ensure_topics(kafka_bootstrap(kafka))
        settings = IngestSettings(
            kafka_bootstrap=kafka_bootstrap(kafka),
            mongo_uri=mongo_uri(mongo),
            mongo_database="bench_ingest",
            consumer_group="bench-ingest",
            grpc_bind="127.0.0.1:0",
            signing_key=secrets.token_hex(32),
            encryption_key=encode_key(new_key()),
            outbound_allowed_networks="127.0.0.0/8",  # the local Dovecot
            poll_interval_seconds=3600,
        )
        service = ingest_bootstrap.build(settings)
        await service.start()
        try:
            started = time.perf_counter()
            record = await service.commands.connect(
                Caller("bench-ws", "bench-member"),
                ImapConnection(
                    ImapEndpoint(server.host, server.port, "none", USER, "password"), PASSWORD
                ),
                ("member@northwind.io",),
                None,
                (),
                datetime.now(UTC),
            )
            mailbox_id, last_shown = record.mailbox.mailbox_id, 0
            while True:
                status = (await service.store.mailbox("bench-ws", mailbox_id)).status
                if status.state == "idle" and status.last_success_at is not None:
                    break
                if status.state == "error":
                    raise RuntimeError(f"backfill failed: {status.error_message}")
                if status.messages_done >= last_shown + 5000:
                    last_shown = status.messages_done
                    rate = status.messages_done / (time.perf_counter() - started)
                    print(f"  ... {status.messages_done} messages, {rate:.0f}/s", flush=True)
                await asyncio.sleep(0.2)
            return time.perf_counter() - started, status.messages_done
        finally:
            await service.stop()
    finally:
        mongo.stop()
        kafka.stop()


def run(count: int = 20_000) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix="commsintel-bench-imap-"))
    try:
        with running_dovecot({USER: PASSWORD}) as server:
            size = _fill_maildir(server, count)
            _bare_fetch(server)  # Dovecot indexes the new Maildir on first access: not timed
            fetched, bare_seconds = _bare_fetch(server)
            seconds, synced = asyncio.run(_backfill(server, workdir, count))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "messages": synced,
        "mailbox_mb": size / 1e6,
        "backfill_msgs_per_s": synced / seconds,
        "bare_imap_fetch_msgs_per_s": fetched / bare_seconds,
        "ratio_vs_bare_fetch": bare_seconds / seconds * synced / max(fetched, 1),
        "peak_rss_mb": peak_mb,
    }
