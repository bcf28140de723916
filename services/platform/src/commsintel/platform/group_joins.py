"""A group join that brings this member no assignment at all is joined again.

In a consumer group's rebalance the leader assigns the partitions and the broker hands
each member its part (SyncGroup). A member the leader's plan left out gets empty bytes:
not an empty assignment, no assignment (Kafka 0.10 answered null; the local noida-db
stand-in does it when a member is removed while the others rejoin). aiokafka decodes
those bytes as an assignment, fails ("unpack requires a buffer of 2 bytes"), and its
coordinator task dies: the consumer never consumes again, and ingest's mailboxes of that
instance are synced by nobody. Wrapped here, such a join counts as a failed one, which
aiokafka retries after its backoff: the next rebalance gives the member its share
(docs/decisions/0027).
"""

from __future__ import annotations

import logging

from aiokafka.consumer.group_coordinator import CoordinatorGroupRebalance

log = logging.getLogger(__name__)


def rejoin_on_missing_assignment() -> None:
    """Installs the wrapper in this process's aiokafka consumers (idempotent)."""
    original = CoordinatorGroupRebalance.perform_group_join
    if getattr(original, "rejoins_by_commsintel", False):
        return

    async def joined(self):
        assignment = await original(self)
        if assignment is not None and not assignment[1]:
            log.warning("group %s gave this member no assignment: joining again", self.group_id)
            return None
        return assignment

    joined.rejoins_by_commsintel = True  # type: ignore[attr-defined]
    CoordinatorGroupRebalance.perform_group_join = joined  # type: ignore[method-assign]
