"""One handler per batch: InteractionResolved -> interactions -> member strengths."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from commsintel.contracts.events import Event, InteractionResolved
from commsintel.intelligence.adapters.store import IntelligenceStore
from commsintel.intelligence.domain.attributes import Interaction
from commsintel.intelligence.domain.strength import StrengthModel


class IntelligenceHandlers:
    def __init__(self, store: IntelligenceStore, model: StrengthModel) -> None:
        self._store = store
        self._model = model

    async def handle_batch(self, events: Sequence[Event]) -> None:
        for workspace_id, run in groupby(events, key=lambda event: event.workspace_id):
            pairs = [
                (event.mailbox_id, interaction)
                for event in run
                if isinstance(event, InteractionResolved) and event.kind == "email"
                for interaction in interactions_of(event)
            ]
            fresh = await self._store.add_interactions(workspace_id, pairs)
            await self._store.fold_strengths(workspace_id, fresh, self._model)


def interactions_of(event: InteractionResolved) -> list[Interaction]:
    return [
        Interaction(
            record_id=record.record_id,
            member_id=event.member_id,
            interaction_key=event.interaction_key,
            at=event.occurred_at,
            direction=event.direction,
            participant_count=event.participant_count,
        )
        for record in event.records
    ]
