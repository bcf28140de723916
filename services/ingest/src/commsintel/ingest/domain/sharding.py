"""Which instance syncs which mailbox: the one assigned the mailbox's partition of
ingest.sync-requests by Kafka's consumer group (docs/decisions/0027).

A mailbox's partition is the one its SyncRequested records land on (Kafka's default
partitioner of the key, the mailbox id: `PartitionOf`, given by the adapter), so the
requests for a mailbox reach the instance that syncs it. Everything here is pure; the
group assignment comes from the consumer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

PartitionOf = Callable[[str], int]  # mailbox id -> its partition of ingest.sync-requests


@dataclass(frozen=True)
class HandOver:
    """What an instance does when its assignment changes: stop the mailboxes it no longer
    owns (before the group moves on), start the ones it now owns."""

    stop: frozenset[str]
    start: frozenset[str]


def owned(
    mailbox_ids: Iterable[str], assigned: frozenset[int], partition_of: PartitionOf
) -> frozenset[str]:
    """The mailboxes among `mailbox_ids` that an instance assigned `assigned` syncs."""
    return frozenset(m for m in mailbox_ids if partition_of(m) in assigned)


def hand_over(
    running: Iterable[str],
    connected: Iterable[str],
    assigned: frozenset[int],
    partition_of: PartitionOf,
) -> HandOver:
    """From the mailboxes this instance syncs (`running`) to the ones it should sync:
    the `connected` mailboxes whose partition is in `assigned`."""
    now_running = frozenset(running)
    wanted = owned(connected, assigned, partition_of)
    return HandOver(stop=now_running - wanted, start=wanted - now_running)
