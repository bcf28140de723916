"""Import calendar files (one .ics, or a directory of them: a calendar archive) into an
archive mailbox: each file is one calendar, synced like an .ics feed, so importing it
again publishes only what changed. A file that is not iCalendar, or an event in it that
cannot be read, is quarantined with its reason and the import goes on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from commsintel.ingest.adapters.archives import ArchiveNotFound
from commsintel.ingest.adapters.calendar_store import CalendarStore
from commsintel.ingest.adapters.ics_source import IcsFeed, IcsSource
from commsintel.ingest.adapters.store import IngestStore
from commsintel.ingest.domain.calendar import MAX_FEED_BYTES
from commsintel.ingest.domain.sightings import Mailbox, mailbox_connected
from commsintel.ingest.service_layer.calendar import sync_calendar
from commsintel.platform.streaming import EventPublisher


@dataclass
class CalendarImportProgress:
    files: int = 0
    events_read: int = 0  # resources: one per UID of a file
    published: int = 0  # EventSynced
    cancelled: int = 0
    quarantined: int = 0  # files and events that could not be read


def calendar_files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
    elif path.is_dir():
        yield from sorted(p for p in path.rglob("*") if p.suffix.lower() == ".ics" and p.is_file())
    else:
        raise ArchiveNotFound(f"no calendar file or directory at {path}")


def is_calendar_archive(path: Path) -> bool:
    """An .ics file, or a directory holding .ics files and no mail."""
    if path.is_file():
        return path.suffix.lower() == ".ics"
    if not path.is_dir() or (path / "cur").is_dir():  # a Maildir
        return False
    names = [p.suffix.lower() for p in path.rglob("*") if p.is_file()]
    return ".ics" in names and ".eml" not in names


async def import_calendar_archive(
    path: Path,
    mailbox: Mailbox,
    *,
    store: IngestStore,
    calendars: CalendarStore,
    publisher: EventPublisher,
    now: datetime,
    on_progress: Callable[[CalendarImportProgress], None] = lambda progress: None,
) -> CalendarImportProgress:
    files = list(calendar_files(path))
    await store.save_mailbox(mailbox, "archive", now)
    record = await store.mailbox(mailbox.workspace_id, mailbox.mailbox_id)
    await publisher.publish([mailbox_connected(mailbox, "archive", record.connected_at)])
    progress = CalendarImportProgress()
    for file in files:
        source = IcsSource(IcsFeed(str(file.resolve()), local_file=True))
        result = await sync_calendar(
            source,
            mailbox,
            store=calendars,
            publisher=publisher,
            now=now,
            remove_missing=False,
        )
        progress.files += 1
        progress.events_read += result.resources_read
        progress.published += result.published
        progress.cancelled += result.cancelled
        for malformed in result.malformed:
            if not malformed.href:  # the whole file: keep its bytes with the reason
                raw = file.read_bytes()[: MAX_FEED_BYTES + 1]
                await calendars.quarantine(
                    mailbox, source.calendar.calendar_id, file.name, raw, malformed.reason
                )
            progress.quarantined += 1
        on_progress(progress)
    return progress
