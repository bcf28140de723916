"""Access folds every event it needs into its projections, one bulk write per batch."""

from __future__ import annotations

from collections.abc import Sequence

from commsintel.access.adapters.store import AccessStore
from commsintel.contracts.events import Event


class AccessHandlers:
    def __init__(self, store: AccessStore) -> None:
        self._store = store

    async def handle_batch(self, events: Sequence[Event]) -> None:
        await self._store.apply(events)
