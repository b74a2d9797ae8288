"""Map a function over many items in forked worker processes, when there are enough to pay for them."""

from __future__ import annotations

import contextlib
import os

PARALLEL_THRESHOLD = 50
"""Below this many items, starting worker processes costs more than it saves."""
YOUNG_OBJECTS = 50_000
"""How many new container objects the cyclic collector lets pass before it runs, while mapping (700 by
default). Rendering makes millions of short-lived trees and tuples that reference counting frees, and
none of them cyclic; scanning them every 700 allocations was 4% of a build's CPU."""

_FUNCTION = None


def _call(item):
    return _FUNCTION(item)


def parallel_map(function, items, processes: int | None = None) -> list:
    """Return [function(item) for item in items], computed by forked workers for big batches.

    Workers are forked so that they inherit `function` and everything it closes over (the whole site)
    without pickling it; only the items and results cross between processes.
    """
    global _FUNCTION
    items = list(items)
    workers = processes if processes is not None else min(os.cpu_count() or 1, 4)
    with _fewer_collections():
        if len(items) <= PARALLEL_THRESHOLD or workers < 2 or not _can_fork():
            return [function(item) for item in items]
        import gc
        import multiprocessing
        _FUNCTION = function
        gc.freeze()  # workers' collections then skip what they inherit, and do not copy its memory by touching it
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                # Small chunks: the last one is the time one worker waits for the other at the end.
                return pool.map(_call, items, chunksize=max(1, len(items) // (workers * 32)))
        finally:
            gc.unfreeze()
            _FUNCTION = None


@contextlib.contextmanager
def _fewer_collections():
    """Run the cyclic collector every YOUNG_OBJECTS allocations inside the block (forked workers inherit it)."""
    import gc
    threshold = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


def _can_fork() -> bool:
    import multiprocessing
    return "fork" in multiprocessing.get_all_start_methods()
