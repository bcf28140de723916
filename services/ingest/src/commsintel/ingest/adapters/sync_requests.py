"""Where a mailbox's SyncRequested records land: the partition Kafka's default
partitioner gives its key (the mailbox id), with the partition count the consumer's
metadata knows. The owner of that partition syncs the mailbox (domain/sharding.py)."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner

from commsintel.platform.streaming import GroupMembership


class RequestPartitions:
    def __init__(self, membership: GroupMembership, topic: str) -> None:
        self._membership = membership
        self._topic = topic
        self._partitioner = DefaultPartitioner()

    def __call__(self, mailbox_id: str) -> int:
        consumer = getattr(self._membership.subscriber, "consumer", None)
        known = consumer.partitions_for_topic(self._topic) if consumer is not None else None
        if not known:
            raise RuntimeError(f"the partitions of {self._topic} are not known yet")
        partitions = sorted(known)
        return self._partitioner(mailbox_id.encode(), partitions, partitions)
