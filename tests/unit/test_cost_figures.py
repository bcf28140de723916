"""The arithmetic of `python -m bench cost=N` (bench/cost_figures.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from aiokafka.partitioner import DefaultPartitioner

# `uv run pytest` does not put the repository root on sys.path; bench/ is found from there.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.cost_figures import (
    ServiceCost,
    StoreCounts,
    collection_of,
    cpu_seconds_from_stat,
    documents_in,
    index_entries,
    sample_sizes,
    seeds_on_distinct_partitions,
    share_of_ceiling,
    store_bound_ceiling,
)


def test_documents_in_counts_statements_of_write_commands_and_nothing_of_reads() -> None:
    assert documents_in("insert", {"insert": "c", "documents": [{}, {}, {}]}) == 3
    assert documents_in("update", {"update": "c", "updates": [{"q": {}, "u": {}}] * 2}) == 2
    assert documents_in("delete", {"delete": "c", "deletes": [{"q": {}}]}) == 1
    assert documents_in("findAndModify", {"findAndModify": "c", "update": {}}) == 1
    assert documents_in("bulkWrite", {"bulkWrite": 1, "ops": [{}, {}]}) == 2
    assert documents_in("find", {"find": "c", "filter": {}}) == 0
    assert documents_in("commitTransaction", {"commitTransaction": 1}) == 0


def test_collection_of_a_command() -> None:
    assert collection_of("find", {"find": "people"}) == "people"
    assert collection_of("getMore", {"getMore": 123, "collection": "people"}) == "people"
    assert collection_of("commitTransaction", {"commitTransaction": 1}) == ""


def test_store_counts_skip_housekeeping_and_subtract_an_earlier_snapshot() -> None:
    counts = StoreCounts()
    counts.add("db", "hello", {"hello": 1})
    counts.add("db", "insert", {"insert": "a", "documents": [{}, {}]})
    earlier = StoreCounts.from_json(counts.as_json())
    counts.add("db", "update", {"update": "a", "updates": [{}]})
    counts.add("db", "find", {"find": "b"})
    counts.add("admin", "commitTransaction", {"commitTransaction": 1})

    assert counts.commands == {"db.a": 2, "db.b": 1, "admin.": 1}
    assert counts.documents == {"db.a": 3}
    since = counts.minus(earlier)
    assert since.commands == {"db.a": 1, "db.b": 1, "admin.": 1}
    assert since.documents == {"db.a": 1}
    assert since.by_command == {"update": 1, "find": 1, "commitTransaction": 1}
    both = StoreCounts.total([since, earlier])
    assert both.as_json() == counts.as_json()


def test_index_entries_are_documents_times_indexes_of_their_collection() -> None:
    documents = {"db.a": 10, "db.b": 4, "db.unknown": 3}
    assert index_entries(documents, {"db.a": 3, "db.b": 1}) == 10 * 3 + 4 * 1 + 3 * 1


def test_per_message_figures_and_cpu_net_of_idling() -> None:
    counts = StoreCounts(commands={"db.a": 50}, documents={"db.a": 2000})
    cost = ServiceCost(
        "identity", cpu_seconds=3.0, counts=counts, peak_rss_mb=120.0,
        idle_cpu_share=0.01, seconds=100.0,
    )  # fmt: skip
    figures = cost.per_message(1000, {"db.a": 2})
    assert figures["documents_per_msg"] == pytest.approx(2.0)
    assert figures["index_entries_per_msg"] == pytest.approx(4.0)
    assert figures["commands_per_msg"] == pytest.approx(0.05)
    assert figures["cpu_ms_per_msg"] == pytest.approx(3.0)
    # 1 of the 3 CPU seconds is what it spends idle over 100 s.
    assert figures["cpu_ms_per_msg_net_of_idle"] == pytest.approx(2.0)
    assert figures["peak_rss_mb"] == 120.0


def test_store_bound_ceiling_and_share() -> None:
    ceiling = store_bound_ceiling(3000.0, 10.0)
    assert ceiling == pytest.approx(300.0)
    assert share_of_ceiling(150.0, ceiling) == pytest.approx(0.5)
    assert store_bound_ceiling(3000.0, 0.0) == float("inf")


def test_sample_sizes_follow_what_was_written() -> None:
    sizes = sample_sizes({"db.a": 9000, "db.b": 1000, "db.c": 1}, 1000)
    assert sizes == {"db.a": 900, "db.b": 100, "db.c": 1}
    # Never more than was written.
    assert sample_sizes({"db.a": 30, "db.b": 10}, 1000) == {"db.a": 30, "db.b": 10}
    assert sample_sizes({}, 1000) == {}


def test_cpu_seconds_from_a_proc_stat_line() -> None:
    # pid (comm) state ppid ... utime (14) stime (15); a command name may hold spaces.
    fields = ["S", "1"] + ["0"] * 9 + ["250", "50"] + ["0"] * 30
    line = "4242 (python -m bench) " + " ".join(fields)
    assert cpu_seconds_from_stat(line, 100) == pytest.approx(3.0)


def test_seeds_on_distinct_partitions() -> None:
    seeds = seeds_on_distinct_partitions(6, 1666, 6)
    every = list(range(6))
    placed = {DefaultPartitioner()(f"synthetic-{s}-1666".encode(), every, every) for s in seeds}
    assert len(seeds) == 6 and placed == set(every)
    with pytest.raises(ValueError):
        seeds_on_distinct_partitions(7, 100, 6)
