"""One handler per batch: InteractionResolved -> interactions -> member strengths;
MailboxRemoved -> that mailbox's interactions gone, strengths folded again.

An InteractionResolved names all records of one (mailbox, interaction); a later one for
the same pair replaces the earlier one.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from commsintel.contracts.events import Event, InteractionResolved, MailboxRemoved
from commsintel.intelligence.adapters.store import IntelligenceStore, Pair
from commsintel.intelligence.domain.attributes import Interaction
from commsintel.intelligence.domain.strength import StrengthModel


class IntelligenceHandlers:
    def __init__(self, store: IntelligenceStore, model: StrengthModel) -> None:
        self._store = store
        self._model = model

    async def handle_batch(self, events: Sequence[Event]) -> None:
        for workspace_id, run in groupby(events, key=lambda event: event.workspace_id):
            resolved: dict[str, tuple[str, list[Interaction]]] = {}
            changed: set[Pair] = set()
            for event in run:
                if isinstance(event, InteractionResolved):
                    ref = f"{event.mailbox_id}\x1f{event.interaction_key}"
                    resolved[ref] = (event.mailbox_id, interactions_of(event))
                elif isinstance(event, MailboxRemoved):
                    # What came before the removal is stored first, then removed with it.
                    changed |= await self._flush(workspace_id, resolved)
                    changed |= await self._store.remove_mailbox(workspace_id, event.mailbox_id)
            changed |= await self._flush(workspace_id, resolved)
            await self._store.fold_strengths(workspace_id, changed, self._model)

    async def _flush(self, workspace_id: str, resolved: dict) -> set[Pair]:
        """Store the pending resolutions; returns every pair they touched."""
        _, lost = await self._store.replace_interactions(workspace_id, dict(resolved))
        touched = {(i.record_id, i.member_id) for _, found in resolved.values() for i in found}
        resolved.clear()
        return lost | touched


def interactions_of(event: InteractionResolved) -> list[Interaction]:
    return [
        Interaction(
            record_id=record.record_id,
            member_id=event.member_id,
            interaction_key=event.interaction_key,
            at=event.occurred_at,
            direction=event.direction,
            participant_count=event.participant_count,
            kind=event.kind,
            role=record.role,
        )
        for record in event.records
    ]
