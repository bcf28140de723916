"""Where every synced or imported message goes in: content store, blocklist, Kafka,
sightings. One path for IMAP sync and archive import, so both behave the same.

Order per batch: contents are stored first (access may ask for a body as soon as the
event is out), then events are published, then the retracted sightings are marked and the
thread terms added, and the new sightings are recorded last. A sighting is what makes the
next pass say "already synced", so everything else of its batch is durable before it: a
crash at any point redoes the batch, re-publishing the same event ids (consumers dedupe)
and writing the same documents (tests/faults/test_crash_safety.py kills an import).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from commsintel.contracts.events import Event, MessageSynced
from commsintel.ingest.domain.blocklist import (
    BlocklistEntry,
    IncomingMessage,
    admit,
    blocking_entries,
    changed_values,
    hidden_reason,
    visibility_change,
)
from commsintel.ingest.domain.content import message_content
from commsintel.ingest.domain.parsing import ParsedMessage
from commsintel.ingest.domain.sightings import (
    Mailbox,
    message_retracted,
    message_shown_again,
    message_synced,
)
from commsintel.ingest.ports import Contents, Publisher, Sightings


@dataclass
class IntakeCounts:
    published: int = 0
    already_synced: int = 0
    hidden: int = 0
    retracted: int = 0
    shown_again: int = 0


class MessageIntake:
    def __init__(self, store: Sightings, contents: Contents, publisher: Publisher) -> None:
        self._store = store
        self._contents = contents
        self._publisher = publisher

    async def take(
        self,
        mailbox: Mailbox,
        blocklist: tuple[BlocklistEntry, ...],
        batch: Sequence[tuple[bytes, ParsedMessage]],
        now: datetime,
    ) -> IntakeCounts:
        counts = IntakeCounts()
        unique: dict[str, tuple[bytes, ParsedMessage]] = {}
        for raw, parsed in batch:
            unique.setdefault(parsed.message_id, (raw, parsed))
        seen = await self._store.already_synced(mailbox.mailbox_id, unique)
        fresh = {key: item for key, item in unique.items() if key not in seen}
        counts.already_synced = len(batch) - len(fresh)
        if not fresh:
            return counts
        await self._contents.save(
            mailbox.workspace_id,
            mailbox.mailbox_id,
            [(key, message_content(raw, parsed)) for key, (raw, parsed) in fresh.items()],
        )
        parsed_of = {key: parsed for key, (_, parsed) in fresh.items()}
        stored_terms = await self._store.thread_terms(
            mailbox.mailbox_id, {p.thread_id for p in parsed_of.values()}
        )
        admission = admit(
            blocklist,
            stored_terms,
            (
                IncomingMessage(key, p.thread_id, frozenset(x.address for x in p.participants))
                for key, p in parsed_of.items()
            ),
        )
        retracted = await self._store.visible_sightings(
            mailbox.mailbox_id, admission.newly_hidden_threads
        )
        synced = {key: message_synced(mailbox, parsed_of[key]) for key in parsed_of}
        events: list[Event] = [
            message_retracted(
                mailbox,
                sighting.message_key,
                sighting.generation,
                admission.newly_hidden_threads[sighting.thread_key],
                now,
            )
            for sighting in retracted
        ]
        events += [synced[key] for key in admission.published]
        await self._publisher.publish(events)
        for thread_key, reason in admission.newly_hidden_threads.items():
            keys = [s.message_key for s in retracted if s.thread_key == thread_key]
            await self._store.mark_hidden(mailbox.mailbox_id, keys, reason)
        await self._store.add_thread_terms(mailbox, admission.thread_terms)
        await self._store.record_sightings(
            mailbox,
            (
                {
                    "message_key": key,
                    "thread_key": parsed_of[key].thread_id,
                    # What a reply needs for its References header.
                    "references": list(parsed_of[key].references),
                    "event": event.model_dump(mode="json"),
                    "hidden_reason": admission.hidden.get(key, ""),
                }
                for key, event in synced.items()
            ),
        )
        counts.published = len(admission.published)
        counts.hidden = len(admission.hidden)
        counts.retracted = len(retracted)
        return counts

    async def blocklist_changed(
        self,
        mailbox: Mailbox,
        before: tuple[BlocklistEntry, ...],
        after: tuple[BlocklistEntry, ...],
        now: datetime,
    ) -> IntakeCounts:
        """Retract what new entries hide; publish again what removed entries bring back."""
        counts = IntakeCounts()
        threads = await self._store.threads_touching(
            mailbox.mailbox_id, changed_values(before, after)
        )
        change = {key: visibility_change(before, after, terms) for key, terms in threads.items()}
        to_hide = {key for key, what in change.items() if what == "hide"}
        to_show = {key for key, what in change.items() if what == "show"}
        hiding = await self._store.visible_sightings(mailbox.mailbox_id, to_hide)
        showing = await self._store.hidden_sightings(mailbox.mailbox_id, to_show)
        reasons = {key: hidden_reason(blocking_entries(after, threads[key])) for key in to_hide}
        events: list[Event] = [
            message_retracted(mailbox, s.message_key, s.generation, reasons[s.thread_key], now)
            for s in hiding
        ]
        events += [
            message_shown_again(MessageSynced.model_validate(s.event), s.generation)
            for s in showing
        ]
        await self._publisher.publish(events)
        for thread_key, reason in reasons.items():
            keys = [s.message_key for s in hiding if s.thread_key == thread_key]
            await self._store.mark_hidden(mailbox.mailbox_id, keys, reason)
        await self._store.mark_shown(mailbox.mailbox_id, [s.message_key for s in showing])
        counts.retracted, counts.shown_again = len(hiding), len(showing)
        return counts
