"""Timing helper shared by the CPython side of the benchmarks.

Each script prints one JSON object per line: {"bench": name, "seconds":
median}, for benches/python/compare.py to read. Every figure is the median
of several runs of a fresh event loop, as criterion reports medians.
"""

import asyncio
import json
import statistics
import sys
import time


def measure(name, make_coro, runs=5):
    """Runs `make_coro()` to completion `runs` times; prints the median."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        asyncio.run(make_coro())
        samples.append(time.perf_counter() - start)
    median = statistics.median(samples)
    print(json.dumps({"bench": name, "seconds": median}), flush=True)
    return median


def sizes(default):
    """The sizes to run: the command line's, or `default`."""
    return [int(arg) for arg in sys.argv[1:]] or default
