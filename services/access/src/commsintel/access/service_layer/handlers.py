"""Access folds every event it needs into its projections, one bulk write per batch, and
into the in-memory states of the workspaces it holds."""

from __future__ import annotations

from collections.abc import Sequence

from commsintel.access.ports import AccessProjections
from commsintel.access.service_layer.workspace_states import WorkspaceStates
from commsintel.contracts.events import Event


class AccessHandlers:
    def __init__(self, store: AccessProjections, states: WorkspaceStates | None = None) -> None:
        self._store = store
        self._states = states

    async def handle_batch(self, events: Sequence[Event]) -> None:
        if self._states is None:
            await self._store.apply(events)  # a replay: nothing held in memory
        else:
            await self._states.apply(events)
