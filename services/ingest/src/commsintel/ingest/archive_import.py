"""Import an archive (mbox, Maildir, directory of .eml) as a mailbox: parse, quarantine
what cannot be parsed, publish MessageSynced for what this mailbox has not synced yet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from commsintel.contracts.streaming import EventPublisher
from commsintel.ingest.adapters.archives import iter_archive
from commsintel.ingest.adapters.store import IngestStore
from commsintel.ingest.domain.parsing import MalformedMessage, ParsedMessage, parse_message
from commsintel.ingest.domain.sightings import Mailbox, mailbox_connected, message_synced


@dataclass
class ImportProgress:
    read: int = 0
    published: int = 0
    already_synced: int = 0
    quarantined: int = 0


async def import_archive(
    path: Path,
    mailbox: Mailbox,
    *,
    store: IngestStore,
    publisher: EventPublisher,
    now: datetime,
    batch_size: int = 500,
    on_progress: Callable[[ImportProgress], None] = lambda progress: None,
) -> ImportProgress:
    """Streams the archive in batches; memory stays bounded by `batch_size`.

    Sightings are recorded only after the broker has the batch, so a crash re-publishes
    (same event ids, consumers dedupe) rather than loses.
    """
    await store.save_mailbox(mailbox, "archive", now)
    await publisher.publish([mailbox_connected(mailbox, "archive", now)])
    progress = ImportProgress()
    batch: dict[str, ParsedMessage] = {}
    for item in iter_archive(path):
        progress.read += 1
        try:
            parsed = parse_message(item.raw, owner_addresses=mailbox.owner_addresses)
        except MalformedMessage as malformed:
            await store.quarantine(mailbox, item.source, item.raw, malformed.reason)
            progress.quarantined += 1
            continue
        batch.setdefault(parsed.message_id, parsed)
        if len(batch) >= batch_size:
            await _publish_batch(batch, mailbox, store, publisher, progress)
            on_progress(progress)
    await _publish_batch(batch, mailbox, store, publisher, progress)
    on_progress(progress)
    return progress


async def _publish_batch(
    batch: dict[str, ParsedMessage],
    mailbox: Mailbox,
    store: IngestStore,
    publisher: EventPublisher,
    progress: ImportProgress,
) -> None:
    if not batch:
        return
    seen = await store.already_synced(mailbox.mailbox_id, batch)
    fresh = [message for key, message in batch.items() if key not in seen]
    await publisher.publish(message_synced(mailbox, message) for message in fresh)
    await store.record_sightings(mailbox, (message.message_id for message in fresh))
    progress.already_synced += len(seen)
    progress.published += len(fresh)
    batch.clear()
