"""A floor under the time between two empty fetches from one broker.

A Kafka consumer asks each broker for records with a long poll: the broker holds a fetch
that finds nothing for up to `fetch_max_wait_ms` (500 ms by default) in case records
arrive. A broker that answers an empty fetch at once instead (the noida-db stand-in
does; Redpanda once did, redpanda#1115) makes aiokafka's fetcher loop spin: measured
here, one idle consumer sent ~5,500 fetches a second and kept a whole core busy, and
every idle service of the pipeline did the same (docs/decisions/0019).

Paced, a fetch that comes back without records sooner than `EMPTY_FETCH_FLOOR_SECONDS`
holds that broker's next fetch until the floor has passed; once a consumer has had
nothing for `IDLE_AFTER_EMPTY_FETCHES` fetches in a row (about a second), the floor is
`IDLE_FETCH_FLOOR_SECONDS` until records come again: an idle consumer then asks ten
times a second, not fifty (each fetch names every assigned partition, 48 for
ingest.sync-requests, so the idle ingest spent 3.5% of a core on them). A broker that
honours the long poll never answers an empty fetch that fast, so against it nothing
changes; against one that does not, a record arriving on an idle partition waits at most
the floor longer.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiokafka.consumer.fetcher import Fetcher

log = logging.getLogger(__name__)

EMPTY_FETCH_FLOOR_SECONDS = 0.02
IDLE_FETCH_FLOOR_SECONDS = 0.1
IDLE_AFTER_EMPTY_FETCHES = 50


def pace_empty_fetches() -> None:
    """Installs the floor in this process's aiokafka consumers (idempotent)."""
    original = getattr(Fetcher, "_proc_fetch_request", None)
    if original is None:  # pragma: no cover - an aiokafka whose fetcher changed
        log.warning("aiokafka's fetcher has no _proc_fetch_request: empty fetches not paced")
        return
    if getattr(original, "paced_by_commsintel", False):
        return

    async def paced(self, assignment, node_id, request):
        started = time.monotonic()
        got_records = await original(self, assignment, node_id, request)
        if got_records:
            self.commsintel_empty_fetches = 0
            return got_records
        empty = getattr(self, "commsintel_empty_fetches", 0) + 1
        self.commsintel_empty_fetches = empty
        floor = (
            IDLE_FETCH_FLOOR_SECONDS
            if empty > IDLE_AFTER_EMPTY_FETCHES
            else EMPTY_FETCH_FLOOR_SECONDS
        )
        rest = floor - (time.monotonic() - started)
        if rest > 0:
            try:
                await asyncio.sleep(rest)
            except asyncio.CancelledError:
                return False  # stopping or reassigned: as the fetch itself would answer
        return got_records

    paced.paced_by_commsintel = True  # type: ignore[attr-defined]
    Fetcher._proc_fetch_request = paced  # type: ignore[method-assign]
