"""One handler per batch: InteractionResolved -> interactions -> member strengths.

An InteractionResolved names all records of one (mailbox, interaction); a later one for
the same pair replaces the earlier one, so within a batch only the last one counts.
"""

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
            resolved: dict[str, tuple[str, list[Interaction]]] = {}
            for event in run:
                if isinstance(event, InteractionResolved) and event.kind == "email":
                    ref = f"{event.mailbox_id}\x1f{event.interaction_key}"
                    resolved[ref] = (event.mailbox_id, interactions_of(event))
            fresh, lost = await self._store.replace_interactions(workspace_id, resolved)
            await self._store.fold_strengths(workspace_id, fresh, lost, self._model)


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
