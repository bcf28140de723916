"""Import an archive (mbox, Maildir, directory of .eml) as a mailbox: parse, quarantine
what cannot be parsed, and take the rest in through the same intake as IMAP sync."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from commsintel.ingest.adapters.archives import iter_archive
from commsintel.ingest.adapters.store import IngestStore
from commsintel.ingest.domain.parsing import MalformedMessage, ParsedMessage, parse_message
from commsintel.ingest.domain.sightings import Mailbox, mailbox_connected
from commsintel.ingest.ports import Publisher
from commsintel.ingest.service_layer.intake import MessageIntake


@dataclass
class ImportProgress:
    read: int = 0
    published: int = 0
    already_synced: int = 0
    quarantined: int = 0
    hidden: int = 0  # by the mailbox's blocklist


async def import_archive(
    path: Path,
    mailbox: Mailbox,
    *,
    store: IngestStore,
    intake: MessageIntake,
    publisher: Publisher,
    now: datetime,
    batch_size: int = 500,
    on_progress: Callable[[ImportProgress], None] = lambda progress: None,
) -> ImportProgress:
    """Streams the archive in batches; memory stays bounded by `batch_size`."""
    await store.save_mailbox(mailbox, "archive", now)
    record = await store.mailbox(mailbox.workspace_id, mailbox.mailbox_id)
    await publisher.publish([mailbox_connected(mailbox, "archive", record.connected_at)])
    blocklist = record.blocklist
    progress = ImportProgress()
    batch: list[tuple[bytes, ParsedMessage]] = []

    async def take() -> None:
        counts = await intake.take(mailbox, blocklist, batch, now)
        progress.published += counts.published
        progress.already_synced += counts.already_synced
        progress.hidden += counts.hidden
        batch.clear()
        on_progress(progress)

    for item in iter_archive(path):
        progress.read += 1
        try:
            parsed = parse_message(item.raw, owner_addresses=mailbox.owner_addresses)
        except MalformedMessage as malformed:
            await store.quarantine(mailbox, item.source, item.raw, malformed.reason)
            progress.quarantined += 1
            continue
        batch.append((item.raw, parsed))
        if len(batch) >= batch_size:
            await take()
    await take()
    return progress
