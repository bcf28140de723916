"""The arithmetic of `python -m bench cost=N`, kept pure so it is unit tested: how many
documents a MongoDB command writes, the store counts one process made, and the figures
per message (documents, index entries, commands, CPU ms), the store-bound ceiling and the
end-to-end rate's share of it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# The driver's own housekeeping, not a store operation of the service (as
# commsintel.platform.mongo counts them for db.client.operation.duration).
HOUSEKEEPING = frozenset(
    {"hello", "ismaster", "isMaster", "ping", "endSessions", "killCursors", "buildInfo"}
)
# Write commands and the field holding their statements (one document each).
_STATEMENTS = {"insert": "documents", "update": "updates", "delete": "deletes"}


def documents_in(command_name: str, command: Mapping) -> int:
    """The documents a command asks the store to write: one per inserted document, per
    update or delete statement, per findAndModify, per op of a client bulkWrite;
    0 for reads and the rest."""
    if command_name in _STATEMENTS:
        return len(command.get(_STATEMENTS[command_name]) or ())
    if command_name in ("findAndModify", "findandmodify"):
        return 1
    if command_name == "bulkWrite":
        return len(command.get("ops") or ())
    return 0


def collection_of(command_name: str, command: Mapping) -> str:
    """The collection a command names (its first field's value), "" when none does."""
    target = command.get("collection" if command_name == "getMore" else command_name)
    return target if isinstance(target, str) else ""


@dataclass
class StoreCounts:
    """Store commands and documents written by one process, per `database.collection`
    (commands naming no collection, e.g. commitTransaction, under `database.`)."""

    commands: dict[str, int] = field(default_factory=dict)
    documents: dict[str, int] = field(default_factory=dict)
    by_command: dict[str, int] = field(default_factory=dict)

    def add(self, database: str, command_name: str, command: Mapping) -> None:
        if command_name in HOUSEKEEPING:
            return
        namespace = f"{database}.{collection_of(command_name, command)}"
        self.commands[namespace] = self.commands.get(namespace, 0) + 1
        self.by_command[command_name] = self.by_command.get(command_name, 0) + 1
        written = documents_in(command_name, command)
        if written:
            self.documents[namespace] = self.documents.get(namespace, 0) + written

    def as_json(self) -> dict:
        return {
            "commands": dict(self.commands),
            "documents": dict(self.documents),
            "by_command": dict(self.by_command),
        }

    @classmethod
    def from_json(cls, data: Mapping) -> StoreCounts:
        return cls(
            dict(data.get("commands", {})),
            dict(data.get("documents", {})),
            dict(data.get("by_command", {})),
        )

    def minus(self, earlier: StoreCounts) -> StoreCounts:
        """What was counted since `earlier` (a snapshot of the same process)."""

        def less(now: dict[str, int], then: dict[str, int]) -> dict[str, int]:
            return {k: v - then.get(k, 0) for k, v in now.items() if v - then.get(k, 0)}

        return StoreCounts(
            less(self.commands, earlier.commands),
            less(self.documents, earlier.documents),
            less(self.by_command, earlier.by_command),
        )

    @staticmethod
    def total(counts: Iterable[StoreCounts]) -> StoreCounts:
        summed = StoreCounts()
        for one in counts:
            for mine, theirs in (
                (summed.commands, one.commands),
                (summed.documents, one.documents),
                (summed.by_command, one.by_command),
            ):
                for key, value in theirs.items():
                    mine[key] = mine.get(key, 0) + value
        return summed


def index_entries(documents: Mapping[str, int], indexes: Mapping[str, int]) -> int:
    """Index entries written, counted as documents written x indexes on their collection
    (`_id` included): an upper bound, since an update leaves the entries of the fields it
    does not change as they are. A namespace without a known index count has `_id`'s."""
    return sum(count * indexes.get(namespace, 1) for namespace, count in documents.items())


@dataclass(frozen=True)
class ServiceCost:
    """One service's cost over a run: CPU seconds of its process(es) (the store and the
    broker are processes of their own), what its store client sent, its peak RSS."""

    service: str
    cpu_seconds: float
    counts: StoreCounts
    peak_rss_mb: float
    # Share of a core the process(es) used while idle, before the work (polls, timers),
    # and the seconds the work took: the CPU net of idling is what a message costs.
    idle_cpu_share: float = 0.0
    seconds: float = 0.0

    def per_message(self, messages: int, indexes: Mapping[str, int]) -> dict[str, float]:
        documents = sum(self.counts.documents.values())
        idling = self.idle_cpu_share * self.seconds
        return {
            "documents_per_msg": documents / messages,
            "index_entries_per_msg": index_entries(self.counts.documents, indexes) / messages,
            "commands_per_msg": sum(self.counts.commands.values()) / messages,
            "cpu_ms_per_msg": self.cpu_seconds * 1000 / messages,
            "cpu_ms_per_msg_net_of_idle": max(0.0, self.cpu_seconds - idling) * 1000 / messages,
            "idle_cpu_share": self.idle_cpu_share,
            "peak_rss_mb": self.peak_rss_mb,
        }


def store_bound_ceiling(bulk_documents_per_s: float, documents_per_message: float) -> float:
    """Messages/s the store allows when all it does is write our documents in bulk."""
    if documents_per_message <= 0:
        return float("inf")
    return bulk_documents_per_s / documents_per_message


def share_of_ceiling(end_to_end_msgs_per_s: float, ceiling_msgs_per_s: float) -> float:
    """The end-to-end rate as a share of the store-bound ceiling (target: at least 0.5)."""
    return end_to_end_msgs_per_s / ceiling_msgs_per_s


def sample_sizes(documents: Mapping[str, int], total: int) -> dict[str, int]:
    """How many documents of each namespace a bulk write of `total` documents takes, in
    proportion to what the run wrote there (each namespace at least one); `total` is
    capped at what was written."""
    written = sum(documents.values())
    if written == 0:
        return {}
    total = min(total, written)
    return {ns: max(1, round(count * total / written)) for ns, count in documents.items()}


def cpu_seconds_from_stat(stat_line: str, ticks_per_second: int) -> float:
    """utime + stime of a /proc/<pid>/stat line, in seconds (the process's threads
    included, its children not)."""
    # The command name (field 2) is in parentheses and may hold spaces.
    fields = stat_line.rpartition(")")[2].split()
    # Counting from field 3 (state) at index 0: utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / ticks_per_second


def seeds_on_distinct_partitions(count: int, messages: int, partitions: int) -> list[int]:
    """Seeds of `count` synthetic workspaces of `messages` each whose events land on
    distinct partitions (they are keyed by workspace id, `synthetic-<seed>-<messages>`,
    and placed by the Kafka client's default partitioner, murmur2)."""
    from aiokafka.partitioner import DefaultPartitioner

    if count > partitions:
        raise ValueError(f"{count} workspaces cannot sit on {partitions} distinct partitions")
    every = list(range(partitions))
    place = DefaultPartitioner()
    seeds: list[int] = []
    taken: set[int] = set()
    seed = 0
    while len(seeds) < count:
        seed += 1
        partition = place(f"synthetic-{seed}-{messages}".encode(), every, every)
        if partition not in taken:
            taken.add(partition)
            seeds.append(seed)
    return seeds
