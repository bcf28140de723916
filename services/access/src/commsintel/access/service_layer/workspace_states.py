"""The in-memory state of each workspace in use, kept current (docs/decisions/0015).

Every query first reads the workspace's version from MongoDB (queries that arrive while
a read is under way share the next one, so 50 concurrent calls cost about one read). A
state at that version or later answers from memory; an older one is folded forward by
this instance's own consumer when it wrote the change, and reloaded from MongoDB when
another instance did. So a caller who saw a change applied (its receipt) finds it in
their next query on any instance.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence

from commsintel.access.domain.state import AccessState
from commsintel.access.ports import AccessProjections
from commsintel.contracts.events import Event


class VersionReads:
    """Reads of a workspace's version that start after the caller asked, shared by all
    callers waiting at that moment. Reads of one workspace start at least `spacing`
    seconds apart: under load each read then serves more callers, at the cost of that
    much latency at most."""

    def __init__(self, store: AccessProjections, spacing: float = 0.0) -> None:
        self._store = store
        self._spacing = spacing
        self._queued: dict[str, asyncio.Task[int]] = {}
        self._running: dict[str, asyncio.Task[int]] = {}
        self._last_start: dict[str, float] = {}

    async def read(self, workspace_id: str) -> int:
        queued = self._queued.get(workspace_id)
        if queued is None:
            queued = asyncio.get_running_loop().create_task(self._read_next(workspace_id))
            self._queued[workspace_id] = queued
        return await asyncio.shield(queued)

    async def _read_next(self, workspace_id: str) -> int:
        running = self._running.get(workspace_id)
        if running is not None:
            # It may have started before our callers asked: wait, then read afresh.
            await asyncio.wait([running])
        loop = asyncio.get_running_loop()
        wait = self._last_start.get(workspace_id, -self._spacing) + self._spacing - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_start[workspace_id] = loop.time()
        me = self._queued.pop(workspace_id)
        self._running[workspace_id] = me
        try:
            return await self._store.version(workspace_id)
        finally:
            if self._running.get(workspace_id) is me:
                del self._running[workspace_id]


class WorkspaceStates:
    def __init__(
        self, store: AccessProjections, max_workspaces: int = 64, version_read_spacing: float = 0.0
    ) -> None:
        self._store = store
        self._versions = VersionReads(store, version_read_spacing)
        self._states: OrderedDict[str, AccessState] = OrderedDict()
        self._loading: dict[str, asyncio.Task[AccessState]] = {}
        # Workspaces this instance's consumer is writing right now, and a signal when done.
        self._writing: dict[str, asyncio.Event] = {}
        self._max_workspaces = max_workspaces

    async def current(self, workspace_id: str) -> AccessState:
        """The workspace's state, reflecting every change applied before the call."""
        wanted = await self._versions.read(workspace_id)
        while True:
            state = self._states.get(workspace_id)
            if state is not None and state.version >= wanted:
                self._states.move_to_end(workspace_id)
                return state
            writing = self._writing.get(workspace_id)
            if writing is not None:
                await writing.wait()  # our own consumer is about to fold it in
                continue
            loading = self._loading.get(workspace_id)
            if loading is None:
                loading = asyncio.get_running_loop().create_task(self._load(workspace_id))
                self._loading[workspace_id] = loading
            loaded = await asyncio.shield(loading)
            if loaded.version >= wanted:
                return loaded

    async def _load(self, workspace_id: str) -> AccessState:
        try:
            loaded = await self._store.load_state(workspace_id)
            present = self._states.get(workspace_id)
            if present is not None and present.version >= loaded.version:
                return present
            self._states[workspace_id] = loaded
            self._states.move_to_end(workspace_id)
            while len(self._states) > self._max_workspaces:
                self._states.popitem(last=False)
            return loaded
        finally:
            self._loading.pop(workspace_id, None)

    async def apply(self, events: Sequence[Event]) -> None:
        """Write a batch to the store and fold it into the states held here."""
        signals = {}
        for workspace_id in {e.workspace_id for e in events}:
            if workspace_id not in self._writing:
                signals[workspace_id] = self._writing[workspace_id] = asyncio.Event()
        try:
            versions = await self._store.apply(events)
            for workspace_id, version in versions.items():
                self._fold(
                    workspace_id, [e for e in events if e.workspace_id == workspace_id], version
                )
        finally:
            for workspace_id, signal in signals.items():
                del self._writing[workspace_id]
                signal.set()

    def _fold(self, workspace_id: str, events: list[Event], version: int) -> None:
        state = self._states.get(workspace_id)
        if state is None or state.version >= version:
            return
        if state.version == version - 1:
            # Nobody else wrote in between: the batch takes it to the new version.
            state.apply_all(events)
            state.version = version
        else:
            del self._states[workspace_id]  # another instance wrote too: reload when asked
