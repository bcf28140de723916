"""The collector's pace: a replay run inside another process (a test, a benchmark) gets
the slower pace while it runs and leaves the process's own thresholds as they were."""

import gc
import weakref

import pytest

from commsintel.platform.collector import (
    LARGE_HEAP_THRESHOLDS,
    collector_paced_for_large_heaps,
)


@pytest.fixture
def process_thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield (700, 10, 10)
    gc.set_threshold(*before)


def test_the_pace_holds_inside_and_the_process_pace_comes_back(process_thresholds):
    with collector_paced_for_large_heaps():
        assert gc.get_threshold() == LARGE_HEAP_THRESHOLDS
    assert gc.get_threshold() == process_thresholds


def test_the_process_pace_comes_back_after_a_failure(process_thresholds):
    with pytest.raises(RuntimeError), collector_paced_for_large_heaps():
        raise RuntimeError("the replay failed")
    assert gc.get_threshold() == process_thresholds


def test_cycles_are_still_collected_at_that_pace(process_thresholds):
    class Node:
        pass

    with collector_paced_for_large_heaps():
        watched = []
        for _ in range(LARGE_HEAP_THRESHOLDS[0] * 2):
            node = Node()
            node.self = node  # a cycle: only the collector frees it
            watched.append(weakref.ref(node))
            del node
    # Twice the young threshold of cyclic garbage made, no explicit collect: the
    # collector's own passes freed some of it.
    assert any(ref() is None for ref in watched)
