"""Publish a command's events on `access.grants` and answer once the consumer has applied
them (its receipt is in the store), so the caller's next query already reflects it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from commsintel.access.adapters.store import AccessStore
from commsintel.contracts.errors import Unavailable
from commsintel.contracts.events import Event
from commsintel.contracts.streaming import EventPublisher

APPLY_TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.02


class CommandGateway:
    def __init__(self, store: AccessStore, publisher: EventPublisher) -> None:
        self._store = store
        self._publisher = publisher

    async def submit(self, events: Sequence[Event]) -> None:
        if not events:
            return
        await self._publisher.publish(events)
        # One workspace, one partition, in order: the last one applied means all are.
        last = events[-1].event_id
        deadline = time.monotonic() + APPLY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if await self._store.has_receipt(last):
                return
            await asyncio.sleep(POLL_SECONDS)
        raise Unavailable("the change was accepted but is not applied yet; read again shortly")
