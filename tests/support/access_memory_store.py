"""The access projections kept in memory: one `AccessState` per workspace, folded with the
same `AccessState.apply` as the MongoDB store. Implements `commsintel.access.ports.
AccessProjections`; the store contract test runs it and the MongoDB store on the same
histories."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from commsintel.access.domain.state import AccessState
from commsintel.contracts import topics
from commsintel.contracts.events import Event


class InMemoryAccessStore:
    def __init__(self) -> None:
        self._states: dict[str, AccessState] = {}
        self._receipts: set[str] = set()

    async def ensure_indexes(self) -> None:
        return None

    async def apply(self, events: Sequence[Event]) -> dict[str, int]:
        for event in events:
            self._states.setdefault(event.workspace_id, AccessState(event.workspace_id))
            self._states[event.workspace_id].apply(event)
        versions = {}
        for workspace_id in sorted({e.workspace_id for e in events}):
            state = self._states[workspace_id]
            state.version += 1
            versions[workspace_id] = state.version
        self._receipts.update(e.event_id for e in events if e.TOPIC == topics.ACCESS_GRANTS)
        return versions

    async def version(self, workspace_id: str) -> int:
        state = self._states.get(workspace_id)
        return state.version if state is not None else 0

    async def load_state(self, workspace_id: str) -> AccessState:
        """A state of its own, as a load from MongoDB is (the caller folds it further)."""
        state = self._states.get(workspace_id)
        return copy.deepcopy(state) if state is not None else AccessState(workspace_id)

    async def has_receipt(self, event_id: str) -> bool:
        return event_id in self._receipts
