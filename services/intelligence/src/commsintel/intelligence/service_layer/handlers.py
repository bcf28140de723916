"""Events -> the interaction book -> buckets and strengths.

Live, each batch loads the part of its workspace's book the batch can change, applies the
events in order, and writes back the pairs that changed (folded again from all their
interactions). A replay applies everything to books held in memory and writes each
document once at the end. Both apply the same events with the same code, so they end in
the same documents (a test compares them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from itertools import groupby

from commsintel.contracts.events import (
    CompanyCreated,
    Event,
    InteractionResolved,
    MailboxRemoved,
    PersonCreated,
)
from commsintel.intelligence.domain.attributes import Interaction
from commsintel.intelligence.domain.book import InteractionBook, sighting_ref, to_millisecond
from commsintel.intelligence.domain.strength import StrengthModel
from commsintel.intelligence.ports import InteractionBooks


class IntelligenceHandlers:
    def __init__(self, store: InteractionBooks, model: StrengthModel) -> None:
        self._store = store
        self._model = model

    async def handle_batch(self, events: Sequence[Event]) -> None:
        for workspace_id, run in groupby(events, key=lambda event: event.workspace_id):
            run = list(run)
            resolved = [e for e in run if isinstance(e, InteractionResolved)]
            book, stored = await self._store.load(
                workspace_id,
                refs=[sighting_ref(e.mailbox_id, e.interaction_key) for e in resolved],
                members=[e.member_id for e in run if isinstance(e, MailboxRemoved)],
                pairs=[(record.record_id, e.member_id) for e in resolved for record in e.records],
            )
            apply_events(book, run)
            await self._store.save(workspace_id, book, stored, self._model)
            await self._store.add_records(workspace_id, created_records(run))


class IntelligenceReplay:
    """Rebuilds into empty storage (no indexes yet): every workspace's book in memory,
    each document written once by `finish`. Past `max_interactions` held, it writes what
    it has and handles the rest as live batches (slower, same result)."""

    def __init__(
        self,
        store: InteractionBooks,
        model: StrengthModel,
        max_interactions: int,
    ) -> None:
        self._store = store
        self._model = model
        self._max_interactions = max_interactions
        self._books: dict[str, InteractionBook] = {}
        self._records: dict[str, set[str]] = {}
        self._live: IntelligenceHandlers | None = None

    async def handle_batch(self, events: Sequence[Event]) -> None:
        if self._live is not None:
            await self._live.handle_batch(events)
            return
        for workspace_id, run in groupby(events, key=lambda event: event.workspace_id):
            run = list(run)
            apply_events(self._books.setdefault(workspace_id, InteractionBook()), run)
            self._records.setdefault(workspace_id, set()).update(created_records(run))
        if sum(book.size for book in self._books.values()) > self._max_interactions:
            await self.finish()
            self._live = IntelligenceHandlers(self._store, self._model)

    async def finish(self) -> None:
        """Write everything held; the indexes are built after the documents are in (a
        bulk load into indexed collections is several times slower)."""
        for workspace_id in sorted(self._books):
            await self._store.save(workspace_id, self._books[workspace_id], None, self._model)
            await self._store.add_records(workspace_id, self._records.get(workspace_id, ()))
        self._books.clear()
        self._records.clear()
        await self._store.ensure_indexes()


def apply_events(book: InteractionBook, events) -> None:
    for event in events:
        if isinstance(event, InteractionResolved):
            book.resolve(
                sighting_ref(event.mailbox_id, event.interaction_key), interactions_of(event)
            )
        elif isinstance(event, MailboxRemoved):
            book.remove_mailbox(event.mailbox_id)


def created_records(events) -> list[str]:
    """The records identity created: what intelligence answers for (NOT_FOUND otherwise),
    even once a removed mailbox took all their interactions away."""
    found = []
    for event in events:
        if isinstance(event, PersonCreated):
            found.append(event.person_id)
        elif isinstance(event, CompanyCreated):
            found.append(event.company_id)
    return found


def interactions_of(event: InteractionResolved) -> list[Interaction]:
    at = to_millisecond(event.occurred_at.astimezone(UTC))
    # Positional: a replay builds millions of these.
    return [
        Interaction(
            record.record_id,
            event.member_id,
            event.interaction_key,
            at,
            event.direction,
            event.participant_count,
            event.kind,
            record.role,
            event.mailbox_id,
        )
        for record in event.records
    ]
