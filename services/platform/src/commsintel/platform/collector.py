"""How often CPython's cyclic garbage collector runs in our processes.

Its default runs a young-generation pass every 700 net container allocations and, as the
heap grows, full passes over everything alive. A replay (and a service warm with caches)
allocates millions of small, long-lived, acyclic objects: events, tuples, datetimes,
documents. With the default, half of a replay's read-and-fold time was the collector
re-scanning them (bench replay, 100,000 interactions: 7.2 s -> 3.4 s with the pace below;
docs/decisions/0018). Cycles are still collected, just in larger, rarer passes.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Young-generation pass every 50,000 net allocations (a few MB of garbage at most);
# middle and old generations at their usual ratios.
LARGE_HEAP_THRESHOLDS = (50_000, 20, 10)


def pace_collector_for_large_heaps() -> None:
    """For a whole process (a service, the command line): what is alive after start-up
    (modules, classes, settings) is frozen out of every later pass, and passes are rarer."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*LARGE_HEAP_THRESHOLDS)


@contextmanager
def collector_paced_for_large_heaps() -> Iterator[None]:
    """The same pace for one piece of work inside a process that keeps its own (a replay
    run from a test or a benchmark); the process's thresholds come back after."""
    previous = gc.get_threshold()
    gc.set_threshold(*LARGE_HEAP_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
