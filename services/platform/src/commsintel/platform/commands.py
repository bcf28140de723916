"""Publish a command's events and answer once the service's own consumer has applied them
(its receipt is in the store), so the caller's next query already reflects the change."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Protocol

from commsintel.contracts.errors import TryAgainLater
from commsintel.contracts.events import Event

APPLY_TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.02


class Receipts(Protocol):
    async def has_receipt(self, event_id: str) -> bool: ...


class Publisher(Protocol):
    async def publish(self, events: Sequence[Event]) -> int: ...


class CommandGateway:
    def __init__(self, receipts: Receipts, publisher: Publisher) -> None:
        self._receipts = receipts
        self._publisher = publisher

    async def submit(self, events: Sequence[Event]) -> None:
        if not events:
            return
        await self._publisher.publish(events)
        # One workspace, one partition, in order: the last one applied means all are.
        last = events[-1].event_id
        deadline = time.monotonic() + APPLY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if await self._receipts.has_receipt(last):
                return
            await asyncio.sleep(POLL_SECONDS)
        raise TryAgainLater("the change was accepted but is not applied yet; read again shortly")
