"""Runs the crate's criterion benches and the CPython scripts beside them,
back to back on this machine, and writes the ratios into BENCHMARKS.md.
Not part of CI. A full run takes a long while on a 2-core machine (over 45
minutes once); `--only` re-measures some benches and keeps the rest:

    python3 benches/python/compare.py                 # 5 rounds of 2 s each
    python3 benches/python/compare.py --rounds 3 --seconds 4
    python3 benches/python/compare.py --reuse         # the last run's rounds, tables rewritten
    python3 benches/python/compare.py --reuse --no-python   # the same, with the last CPython figures
    python3 benches/python/compare.py --rounds 3 --only task_group,wait   # re-measure those, keep the rest
    python3 benches/python/compare.py --reuse --only memory   # re-measure only peak memory
    python3 benches/python/compare.py --only queue --timeout 900   # stop a hung round after 15 min

Peak memory is measured apart from the timings, one process per figure:
`examples/task_memory.rs` (bytes per pending task in a TaskSet and a
JoinSet, and what a drain adds) and `examples/map_progress.rs --bare` (the
map's peak RSS at 1M and 10M items, from GNU time's `%M`).

A shared machine's speed drifts by tens of percent over minutes, so one
long criterion run can put the crate in a fast minute and its peer in a
slow one. The benches therefore run in several short rounds
(ASYNCIO_BENCH_SECONDS of measurement per figure); each round gives a
ratio per scenario from figures taken seconds apart, and the report gives
the median ratio with the range over the rounds.

The last run's figures (each round's criterion medians, CPython's timings,
the peak memory) are kept in `benches/results/` and committed beside
BENCHMARKS.md, so `--only`, `--reuse` and `--no-python` work on a fresh
clone. A row with no figures there either (a bench added since) keeps the
row BENCHMARKS.md published, and the script says how many it kept.

The CPython interpreter is $PYTHON, or python3.13 if it is on the PATH or
under pyenv, or python3. Targets are SPEC.md's.
"""

import json
import os
import statistics
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CRITERION = ROOT / "target" / "criterion"
HERE = Path(__file__).resolve().parent

# Every SPEC.md performance target measured against a Rust peer:
# (scenario, crate's criterion id, peer's criterion id, peer, target vs peer).
# A row whose ids were not measured (a bench not built yet) says "not run".
SCENARIOS = [
    ("gather, 10k trivial futures", "gather/asyncio_gather/10000",
     "gather/tokio_join_set/10000", "JoinSet", 1.0),
    ("gather, 100k trivial futures", "gather/asyncio_gather/100000",
     "gather/tokio_join_set/100000", "JoinSet", 1.0),
    ("gather, 100k, current-thread runtime", "gather_current_thread/asyncio_gather/100000",
     "gather_current_thread/tokio_join_set/100000", "JoinSet", 1.0),
    ("as_completed drain, 1k", "drain_in_completion_order/asyncio_as_completed/1000",
     "drain_in_completion_order/tokio_join_set/1000", "JoinSet", 1.2),
    ("as_completed drain, 10k", "drain_in_completion_order/asyncio_as_completed/10000",
     "drain_in_completion_order/tokio_join_set/10000", "JoinSet", 1.2),
    ("as_completed drain, 100k", "drain_in_completion_order/asyncio_as_completed/100000",
     "drain_in_completion_order/tokio_join_set/100000", "JoinSet", 1.2),
    ("wait(FirstCompleted) loop drain, 1k", "drain_in_completion_order/asyncio_wait_loop/1000",
     "drain_in_completion_order/tokio_join_set/1000", "JoinSet", 1.2),
    ("wait(FirstCompleted) loop drain, 10k", "drain_in_completion_order/asyncio_wait_loop/10000",
     "drain_in_completion_order/tokio_join_set/10000", "JoinSet", 1.2),
    ("wait(FirstCompleted) loop drain, 100k", "drain_in_completion_order/asyncio_wait_loop/100000",
     "drain_in_completion_order/tokio_join_set/100000", "JoinSet", 1.2),
    ("TaskGroup spawn + join, 10k", "task_group_spawn_join/asyncio_task_group/10000",
     "task_group_spawn_join/tokio_join_set/10000", "JoinSet", 1.0),
    ("TaskGroup spawn + join, 100k", "task_group_spawn_join/asyncio_task_group/100000",
     "task_group_spawn_join/tokio_join_set/100000", "JoinSet", 1.0),
    ("TaskGroup spawn + join, 100k, `start_soon`",
     "task_group_spawn_join/asyncio_task_group_start_soon/100000",
     "task_group_spawn_join/tokio_join_set/100000", "JoinSet", 1.0),
    ("TaskGroup, cancel 100k pending", "task_group_cancel_pending/asyncio_task_group/100000",
     "task_group_cancel_pending/tokio_join_set/100000", "JoinSet shutdown", 1.0),
    ("TaskGroup, cancel 100k pending, `start_soon`",
     "task_group_cancel_pending/asyncio_task_group_start_soon/100000",
     "task_group_cancel_pending/tokio_join_set/100000", "JoinSet shutdown", 1.0),
    ("TaskSet spawn + shutdown, 100k pending", "task_set_spawn_shutdown/asyncio_task_set/100000",
     "task_set_spawn_shutdown/tokio_join_set/100000", "JoinSet spawn + shutdown", 1.0),
    ("Queue, 1M items, capacity 1024, 1P/1C", "queue_1M_cap1024/asyncio/1P1C",
     "queue_1M_cap1024/flume/1P1C", "flume", 1.0),
    ("Queue, 1M items, capacity 1024, 4P/4C", "queue_1M_cap1024/asyncio/4P4C",
     "queue_1M_cap1024/flume/4P4C", "flume", 1.0),
    ("Queue, 1M items, capacity 16, 64P/64C", "queue_1M_cap16/asyncio/64P64C",
     "queue_1M_cap16/flume/64P64C", "flume", 1.5),
    ("Queue, 1M items, capacity 16, 16P/16C", "queue_1M_cap16/asyncio/16P16C",
     "queue_1M_cap16/flume/16P16C", "flume", 1.5),
    ("Queue, 1M items, capacity 16, 1P/64C", "queue_1M_cap16/asyncio/1P64C",
     "queue_1M_cap16/flume/1P64C", "flume", 1.5),
    ("Queue, 1M items, capacity 16, 64P/1C", "queue_1M_cap16/asyncio/64P1C",
     "queue_1M_cap16/flume/64P1C", "flume", 1.5),
    ("Queue 1P/1C, current-thread runtime", "queue_1M_cap1024_current_thread/asyncio/1P1C",
     "queue_1M_cap1024_current_thread/flume/1P1C", "flume", 1.2),
    ("timeout scope ×100k, body ready", "timeout_scope/asyncio_timeout/ready",
     "timeout_scope/tokio_timeout/ready", "tokio::time::timeout", 1.1),
    ("timeout scope ×100k, body pending once", "timeout_scope/asyncio_timeout/pending_once",
     "timeout_scope/tokio_timeout/pending_once", "tokio::time::timeout", 1.2),
    ("wait_for ×100k, body ready", "timeout_scope/asyncio_wait_for/ready",
     "timeout_scope/tokio_timeout/ready", "tokio::time::timeout", 1.0),
    ("wait_for ×100k, body pending once", "timeout_scope/asyncio_wait_for/pending_once",
     "timeout_scope/tokio_timeout/pending_once", "tokio::time::timeout", 1.0),
    ("bounded map, 1M items, limit 50, unordered", "map_1m_limit_50/asyncio_map_unordered/1000000",
     "map_1m_limit_50/futures_buffer_unordered_spawn/1000000",
     "spawning buffer_unordered(50)", 1.0),
]

# The same programs under CPython: (scenario, crate's id, Rust peer's id,
# peer, CPython script, CPython bench). SPEC: the crate's speed-up over
# CPython is at least 0.9× the peer's own speed-up on the same workload.
CPYTHON = [
    ("gather, 10k", "gather/asyncio_gather/10000", "gather/tokio_join_set/10000",
     "JoinSet", "gather.py", "gather/10000"),
    ("gather, 100k", "gather/asyncio_gather/100000", "gather/tokio_join_set/100000",
     "JoinSet", "gather.py", "gather/100000"),
    ("as_completed drain, 1k", "drain_in_completion_order/asyncio_as_completed/1000",
     "drain_in_completion_order/tokio_join_set/1000", "JoinSet", "drain.py",
     "as_completed/1000"),
    ("as_completed drain, 10k", "drain_in_completion_order/asyncio_as_completed/10000",
     "drain_in_completion_order/tokio_join_set/10000", "JoinSet", "drain.py",
     "as_completed/10000"),
    ("as_completed drain, 100k", "drain_in_completion_order/asyncio_as_completed/100000",
     "drain_in_completion_order/tokio_join_set/100000", "JoinSet", "drain.py",
     "as_completed/100000"),
    ("wait(FirstCompleted) loop drain, 1k", "drain_in_completion_order/asyncio_wait_loop/1000",
     "drain_in_completion_order/tokio_join_set/1000", "JoinSet", "drain.py", "wait_loop/1000"),
    ("wait(FirstCompleted) loop drain, 10k", "drain_in_completion_order/asyncio_wait_loop/10000",
     "drain_in_completion_order/tokio_join_set/10000", "JoinSet", "drain.py", "wait_loop/10000"),
    ("TaskGroup spawn + join, 10k", "task_group_spawn_join/asyncio_task_group/10000",
     "task_group_spawn_join/tokio_join_set/10000", "JoinSet", "task_group.py",
     "task_group/10000"),
    ("TaskGroup spawn + join, 100k", "task_group_spawn_join/asyncio_task_group/100000",
     "task_group_spawn_join/tokio_join_set/100000", "JoinSet", "task_group.py",
     "task_group/100000"),
    ("TaskGroup, cancel 100k pending", "task_group_cancel_pending/asyncio_task_group/100000",
     "task_group_cancel_pending/tokio_join_set/100000", "JoinSet", "task_group.py",
     "task_group_cancel/100000"),
    ("Queue 1M, cap 1024, 1P/1C", "queue_1M_cap1024/asyncio/1P1C",
     "queue_1M_cap1024/flume/1P1C", "flume", "queue_bench.py", "queue/1P1C"),
    ("Queue 1M, cap 1024, 4P/4C", "queue_1M_cap1024/asyncio/4P4C",
     "queue_1M_cap1024/flume/4P4C", "flume", "queue_bench.py", "queue/4P4C"),
    ("bounded map 1M, limit 50 (ordered; CPython: a Queue and 50 workers)",
     "map_1m_limit_50/asyncio_map_ordered/1000000",
     "map_1m_limit_50/futures_buffered_spawn/1000000", "spawning buffered(50)",
     "map_bench.py", "map/1000000"),
]
# Where asyncio's algorithm is O(N²), the gap is given in orders of magnitude.
QUADRATIC = {"wait_loop/1000", "wait_loop/10000"}

# (what, crate's id at the small size, small N, id at the large size, large N,
#  target, the peer's ids at the two sizes): the peer's own scaling is shown
#  beside the crate's, since the runtime and allocator scale too.
SCALING = [
    ("gather, per task at 100k ÷ at 10k", "gather/asyncio_gather/10000", 10_000,
     "gather/asyncio_gather/100000", 100_000, 1.3,
     "gather/tokio_join_set/10000", "gather/tokio_join_set/100000"),
    ("as_completed, per task at 100k ÷ at 1k",
     "drain_in_completion_order/asyncio_as_completed/1000", 1_000,
     "drain_in_completion_order/asyncio_as_completed/100000", 100_000, 1.5,
     "drain_in_completion_order/tokio_join_set/1000",
     "drain_in_completion_order/tokio_join_set/100000"),
    ("wait loop, per task at 100k ÷ at 1k",
     "drain_in_completion_order/asyncio_wait_loop/1000", 1_000,
     "drain_in_completion_order/asyncio_wait_loop/100000", 100_000, 1.5,
     "drain_in_completion_order/tokio_join_set/1000",
     "drain_in_completion_order/tokio_join_set/100000"),
]

# Context without a target: (what, crate's id, other id, other's name).
CONTEXT = [
    ("TaskGroup spawn + join 100k, scoped form (`task_group(|tg| ..)`)",
     "task_group_spawn_join/asyncio_task_group_scoped/100000",
     "task_group_spawn_join/tokio_join_set/100000", "JoinSet"),
    ("Queue 1P/1C against flume with a hand-built unfinished count",
     "queue_1M_cap1024/asyncio/1P1C", "queue_1M_cap1024/flume_counted/1P1C",
     "flume + count"),
    ("Queue 4P/4C against flume with a hand-built unfinished count",
     "queue_1M_cap1024/asyncio/4P4C", "queue_1M_cap1024/flume_counted/4P4C",
     "flume + count"),
    ("Queue 4P/4C against async-channel", "queue_1M_cap1024/asyncio/4P4C",
     "queue_1M_cap1024/async_channel/4P4C", "async-channel"),
    ("Queue 4P/4C against flume spending tokio's cooperative budget, as the queue does",
     "queue_1M_cap1024/asyncio/4P4C", "queue_1M_cap1024/flume_cooperative/4P4C",
     "flume + budget"),
    ("Queue 1P/1C against flume spending tokio's cooperative budget",
     "queue_1M_cap1024/asyncio/1P1C", "queue_1M_cap1024/flume_cooperative/1P1C",
     "flume + budget"),
    ("Queue 1P/1C, current-thread runtime, against flume spending tokio's cooperative budget",
     "queue_1M_cap1024_current_thread/asyncio/1P1C",
     "queue_1M_cap1024_current_thread/flume_cooperative/1P1C", "flume + budget"),
    ("Queue 1P/1C, current-thread runtime, against tokio's `mpsc` (which spends the budget; no `task_done`)",
     "queue_1M_cap1024_current_thread/asyncio/1P1C",
     "queue_1M_cap1024_current_thread/tokio_mpsc/1P1C", "tokio mpsc"),
    ("Queue 1P/1C, current-thread runtime, its tasks `unconstrained` (no budget), against flume",
     "queue_1M_cap1024_current_thread/asyncio_unconstrained/1P1C",
     "queue_1M_cap1024_current_thread/flume/1P1C", "flume"),
    ("Queue 16P/16C, capacity 1024, against flume", "queue_1M_cap1024/asyncio/16P16C",
     "queue_1M_cap1024/flume/16P16C", "flume"),
    ("Queue 1P/1C, unbounded (`Queue::unbounded()`), against `flume::unbounded()`",
     "queue_1M_unbounded/asyncio/1P1C", "queue_1M_unbounded/flume/1P1C", "flume"),
    ("Queue 4P/4C, unbounded, against `flume::unbounded()`",
     "queue_1M_unbounded/asyncio/4P4C", "queue_1M_unbounded/flume/4P4C", "flume"),
    ("Queue 64P/64C cap 16 in strict order (`bounded_strict`) against flume",
     "queue_1M_cap16/asyncio_strict/64P64C", "queue_1M_cap16/flume/64P64C", "flume"),
    ("Queue 16P/16C cap 16 in strict order against flume",
     "queue_1M_cap16/asyncio_strict/16P16C", "queue_1M_cap16/flume/16P16C", "flume"),
    ("Queue 1P/64C cap 16 in strict order against flume",
     "queue_1M_cap16/asyncio_strict/1P64C", "queue_1M_cap16/flume/1P64C", "flume"),
    ("Queue 64P/1C cap 16 in strict order against flume",
     "queue_1M_cap16/asyncio_strict/64P1C", "queue_1M_cap16/flume/64P1C", "flume"),
    ("bounded map 1M, ordered, against spawning `buffered(50)`",
     "map_1m_limit_50/asyncio_map_ordered/1000000",
     "map_1m_limit_50/futures_buffered_spawn/1000000", "buffered(50)"),
    ("race of 2 against `tokio::select!`", "race/asyncio_race/2", "race/tokio_select/2",
     "select!"),
    ("race of 1,000 against `futures::future::select_all`", "race/asyncio_race/1000",
     "race/futures_select_all/1000", "select_all"),
]

# BENCHMARKS.md's section written by hand (run-to-run variance, analysis):
# kept as it is when the figures above it are rewritten.
NOTES_HEADING = "## Notes (written by hand)"

# The last run's figures (see the module's docs).
RESULTS = ROOT / "benches" / "results"
RUST_SECTION = "## Against the Rust peer"

# Every bench file whose figures the tables read (a missing one is skipped).
BENCHES = ["gather", "wait", "queue", "task_group", "map", "race", "timeout"]

# Peak memory: (scenario, crate's task_memory arguments, peer's, peer,
# target). Each figure is a separate process of examples/task_memory.rs.
MEMORY = [
    ("1M pending tasks in a TaskSet, current-thread runtime",
     ["task_set", "1000000"], ["join_set", "1000000"], "JoinSet", 1.1),
    ("1M pending tasks in a TaskSet, multi-thread runtime",
     ["task_set", "1000000", "multi"], ["join_set", "1000000", "multi"], "JoinSet", 1.1),
]
# The map's peak RSS at these input sizes (SPEC: at 10M ≤ 1.1× at 1M).
MAP_SIZES = [1_000_000, 10_000_000]

# The chart of crate ÷ peer ratios, written beside this script.
CHART = ROOT / "benches" / "ratios.svg"


def python():
    if os.environ.get("PYTHON"):
        return os.environ["PYTHON"]
    for candidate in [shutil.which("python3.13"),
                      str(Path.home() / ".pyenv/versions/3.13.0/bin/python3")]:
        # A pyenv shim exists even where that version is not selected, and
        # then fails: check that the interpreter runs.
        if candidate and Path(candidate).exists() and subprocess.run(
                [candidate, "--version"], capture_output=True).returncode == 0:
            return candidate
    return sys.executable


def criterion_seconds(bench_id, since=None):
    """The median of `bench_id`'s last criterion run, in seconds; `None` if
    it never ran, or (with `since`, a `time.time()`) not since then."""
    path = CRITERION / bench_id / "new" / "estimates.json"
    if not path.exists():
        return None
    if since is not None and path.stat().st_mtime < since:
        return None
    return json.loads(path.read_text())["median"]["point_estimate"] / 1e9


def run_python(interpreter):
    results = {}
    for script in sorted({row[4] for row in CPYTHON}):
        out = subprocess.run([interpreter, str(HERE / script)], cwd=HERE,
                             check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            row = json.loads(line)
            results[row["bench"]] = row["seconds"]
    return results


def run_memory(rounds):
    """Peak-memory figures, `rounds` processes each: per-task bytes (pending,
    and what the drain added) for every MEMORY row, and the map's peak RSS in
    bytes at each of MAP_SIZES."""
    subprocess.run(["cargo", "build", "--release", "--example", "task_memory",
                    "--example", "map_progress"], cwd=ROOT, check=True)
    examples = ROOT / "target" / "release" / "examples"
    results = {"tasks": {}, "map": {}}
    for (_name, ours, peer_args, _peer, _target) in MEMORY:
        for args in (ours, peer_args):
            key = " ".join(args)
            for _ in range(rounds):
                out = subprocess.run([str(examples / "task_memory"), *args], cwd=ROOT,
                                     check=True, capture_output=True, text=True).stdout
                # "<what>: N pending tasks, B bytes/task pending, drain added D bytes/task ..."
                pending = float(out.split(" bytes/task pending")[0].rsplit(" ", 1)[1])
                drain = float(out.split("drain added ")[1].split(" ")[0])
                results["tasks"].setdefault(key, []).append([pending, drain])
    # GNU time reports the program's own peak (a child's rusage from here
    # would count the Python process it was forked from).
    gnu_time = Path("/usr/bin/time")
    for n in MAP_SIZES:
        if not gnu_time.exists():
            break
        for _ in range(rounds):
            out = subprocess.run([str(gnu_time), "-f", "%M", str(examples / "map_progress"),
                                  str(n), "--bare"], cwd=ROOT, check=True,
                                 capture_output=True, text=True).stderr
            kilobytes = int(out.strip().splitlines()[-1])
            results["map"].setdefault(str(n), []).append(kilobytes * 1024)
    return results


def fmt_time(seconds):
    if seconds is None:
        return "n/a"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def verdict(ok):
    return "meets" if ok else "**misses**"


def speedup_text(speedup):
    # One decimal below 10, so that 4.5× is not printed as a 5×.
    return f"{speedup:.1f}×" if speedup < 10 else f"{speedup:.0f}×"


def option(name, default):
    if name in sys.argv:
        return type(default)(sys.argv[sys.argv.index(name) + 1])
    return default


def all_ids():
    ids = set()
    for row in SCENARIOS:
        ids.update([row[1], row[2]])
    for row in CPYTHON:
        ids.update([row[1], row[2]])
    for row in SCALING:
        ids.update([row[1], row[3], row[6], row[7]])
    for row in CONTEXT:
        ids.update([row[1], row[2]])
    return ids


# Which bench file measures a criterion id, by the id's group.
GROUPS = {
    "gather": ("gather/", "gather_current_thread/"),
    "wait": ("drain_in_completion_order/", "task_set_spawn_shutdown/"),
    "queue": ("queue_",),
    "task_group": ("task_group_",),
    "map": ("map_",),
    "race": ("race/",),
    "timeout": ("timeout_",),
}


def bench_of(bench_id):
    for bench, prefixes in GROUPS.items():
        if bench_id.startswith(prefixes):
            return bench
    return None


def run_round(seconds, benches):
    """One round of `benches`; returns each of their ids' median time."""
    args = ["cargo", "bench"]
    for bench in benches:
        if (ROOT / "benches" / f"{bench}.rs").exists():
            args += ["--bench", bench]
    args += ["--", "--noplot"]
    # No table reads the gather bench's quadratic `join_all` peer, which
    # takes about 90 s a round at 100k.
    env = dict(os.environ, ASYNCIO_BENCH_SECONDS=str(seconds), ASYNCIO_BENCH_SKIP_QUADRATIC="1")
    # flume has hung with every task asleep (64P/64C on capacity 16, 16P/16C
    # on capacity 1024): after `--timeout` seconds (default 1800) the round's
    # benches are killed, and the round keeps only the figures taken before
    # the hang (the others read "not run" or come from the other rounds).
    timeout = option("--timeout", 1800.0)
    started = time.time()
    bench = subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True)
    try:
        code = bench.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(bench.pid, signal.SIGKILL)
        bench.wait()
        print(f"compare.py: the round took more than {timeout:g} s (a hung bench?) and was "
              "stopped; it keeps the figures taken before that", file=sys.stderr)
    else:
        if code != 0:
            raise subprocess.CalledProcessError(code, args)
    return {bench_id: criterion_seconds(bench_id, since=started) for bench_id in all_ids()
            if bench_of(bench_id) in benches}


def spread(values, fmt):
    """The median of `values` and, with more than one, their range."""
    values = [v for v in values if v is not None]
    if not values:
        return None, "n/a"
    median = statistics.median(values)
    if len(values) == 1:
        return median, fmt(median)
    return median, f"{fmt(median)} [{fmt(min(values))}–{fmt(max(values))}]"


def svg_escape(text):
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("`", ""))


def chart(bars):
    """A horizontal bar chart of crate ÷ peer ratios, as SVG text.

    `bars` holds (label, median, low, high, target). Each bar is the median
    ratio, its whisker the range over the rounds, and a black tick the
    target; a bar is green where the median meets its target, red where it
    misses. The axis is logarithmic around 1 (parity)."""
    import math
    label_w, plot_w, row_h, top = 330, 420, 22, 40
    lo_axis, hi_axis = 0.25, 4.0
    height = top + row_h * len(bars) + 40
    width = label_w + plot_w + 30

    def x(ratio):
        ratio = min(max(ratio, lo_axis), hi_axis)
        span = math.log(hi_axis) - math.log(lo_axis)
        return label_w + plot_w * (math.log(ratio) - math.log(lo_axis)) / span

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="10" y="20" font-size="14">crate ÷ peer, every SPEC.md target (bar: median over rounds; '
           'whisker: range; tick: target; log scale)</text>']
    for tick in [0.25, 0.5, 1.0, 1.5, 2.0, 4.0]:
        tx = x(tick)
        out.append(f'<line x1="{tx:.1f}" y1="{top - 5}" x2="{tx:.1f}" '
                   f'y2="{top + row_h * len(bars)}" stroke="#ccc"'
                   + (' stroke-width="2"' if tick == 1.0 else '') + '/>')
        out.append(f'<text x="{tx:.1f}" y="{top + row_h * len(bars) + 15}" '
                   f'text-anchor="middle">{tick:g}×</text>')
    for i, (label, median, low, high, target) in enumerate(bars):
        y = top + i * row_h
        out.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">'
                   f'{svg_escape(label)}</text>')
        if median is None:
            out.append(f'<text x="{label_w + 4}" y="{y + 15}" fill="#888">not run</text>')
            continue
        colour = "#3a9a4a" if median <= target else "#c8443c"
        x0, x1 = x(lo_axis), x(median)
        out.append(f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(x1 - x0, 1):.1f}" '
                   f'height="{row_h - 8}" fill="{colour}"/>')
        out.append(f'<line x1="{x(low):.1f}" y1="{y + row_h / 2}" x2="{x(high):.1f}" '
                   f'y2="{y + row_h / 2}" stroke="#333"/>')
        tx = x(target)
        out.append(f'<line x1="{tx:.1f}" y1="{y + 1}" x2="{tx:.1f}" y2="{y + row_h - 1}" '
                   'stroke="black" stroke-width="2"/>')
        out.append(f'<text x="{x(hi_axis) + 4:.1f}" y="{y + 15}" font-size="11">'
                   f'{median:.2f}×</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def memory_bar_name(name):
    """A peak-memory row's label in the chart."""
    return name.replace("pending tasks in a ", "pending, ").replace(" runtime", "") + " (memory)"


def keep_earlier_rows(lines, old, bars):
    """Rows with no figures ("not run") keep the row BENCHMARKS.md had for
    the same scenario, if it had figures: a fresh clone that re-measures
    one bench (`--only`) keeps the others' last published rows rather than
    blanking them. A kept row's bar is drawn from its published ratio.
    Returns the lines and how many rows were kept."""
    def blank(row):
        return "not run" in row or row.endswith(" n/a |")

    # Keyed by section and scenario: a name can appear in two tables.
    earlier, section = {}, None
    published = old[:old.index(NOTES_HEADING)] if NOTES_HEADING in old else old
    for row in published.split("\n"):
        if row.startswith("## "):
            section = row
        elif row.startswith("| ") and not blank(row):
            earlier.setdefault((section, row.split(" | ")[0]), row)
    kept = 0
    out = []
    section = None
    for row in lines:
        if row.startswith("## "):
            section = row
        if row.startswith("| (not measured"):
            # The peak-memory table, not measured and cached nowhere: its
            # published rows stand in for the placeholder.
            rows = [r for (sec, name), r in earlier.items()
                    if sec == section and name not in ("| scenario", "| ---")]
            if rows:
                kept += len(rows)
                out.extend(rows)
                for kept_row in rows:
                    name = kept_row[2:].split(" | ")[0]
                    match = re.search(r"([\d.]+)× ≤ ([\d.]+)×", kept_row)
                    if "pending tasks in a " in name and match:
                        ratio, target = (float(g) for g in match.groups())
                        bars.append((memory_bar_name(name), ratio, ratio, ratio, target))
                continue
        before = None
        if row.startswith("| ") and blank(row):
            before = earlier.get((section, row.split(" | ")[0]))
        if before is not None:
            kept += 1
            row = before
            name = row[2:].split(" | ")[0]
            match = re.search(r"([\d.]+)× \[([\d.]+)×–([\d.]+)×\]", row)
            for i, bar in enumerate(bars):
                if section == RUST_SECTION and bar[0] == name and bar[1] is None and match:
                    median, low, high = (float(g) for g in match.groups())
                    bars[i] = (name, median, low, high, bar[4])
        out.append(row)
    return out, kept


FLAGS = {"--reuse", "--no-python"}
OPTIONS = {"--rounds", "--seconds", "--only", "--timeout"}


def check_arguments(argv):
    """Refuses what the script does not know, before any bench runs: a
    mistyped flag would otherwise start a half-hour run that ignores it."""
    if "-h" in argv or "--help" in argv:
        print(__doc__.strip())
        sys.exit(0)
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in FLAGS:
            i += 1
        elif arg in OPTIONS and i + 1 < len(argv):
            if arg == "--only":
                unknown = [b for b in argv[i + 1].split(",") if b not in BENCHES + ["memory"]]
                if unknown:
                    sys.exit(f"compare.py: unknown bench in --only: {', '.join(unknown)} "
                             f"(known: {', '.join(BENCHES)}, memory)")
            i += 2
        else:
            sys.exit(f"compare.py: unknown argument {arg!r} (see --help)")


def main():
    check_arguments(sys.argv[1:])
    reuse = "--reuse" in sys.argv
    rounds_wanted = option("--rounds", 5)
    seconds = option("--seconds", 2.0)
    RESULTS.mkdir(exist_ok=True)
    saved = RESULTS / "rounds.json"
    if reuse and saved.exists():
        rounds = json.loads(saved.read_text())
    elif reuse:
        rounds = [{bench_id: criterion_seconds(bench_id) for bench_id in all_ids()}]
    elif "--only" in sys.argv:
        # Re-measure some bench files (after a change to them) and keep the
        # last run's figures for the others, round by round.
        only = [b for b in option("--only", "").split(",") if b in BENCHES]
        old = json.loads(saved.read_text()) if saved.exists() else []
        rounds = [] if only else old
        for i in range(rounds_wanted if only else 0):
            kept = {k: v for k, v in (old[i] if i < len(old) else {}).items()
                    if bench_of(k) not in only}
            kept.update(run_round(seconds, only))
            rounds.append(kept)
        saved.write_text(json.dumps(rounds))
    else:
        rounds = [run_round(seconds, BENCHES) for _ in range(rounds_wanted)]
        saved.write_text(json.dumps(rounds))

    def median_time(bench_id):
        return spread([r.get(bench_id) for r in rounds], fmt_time)[0]

    def ratios(num_id, den_id):
        return [r[num_id] / r[den_id] for r in rounds if r.get(num_id) and r.get(den_id)]

    interpreter = python()
    version = subprocess.run([interpreter, "--version"], capture_output=True,
                             text=True).stdout.strip()
    cached = RESULTS / "cpython.json"
    if "--no-python" in sys.argv:
        # The last run's CPython figures, if any: they do not depend on the
        # crate's code.
        cpython = json.loads(cached.read_text()) if cached.exists() else {}
    else:
        cpython = run_python(interpreter)
        cached.write_text(json.dumps(cpython))
    memory_cache = RESULTS / "memory.json"
    only = option("--only", "").split(",") if "--only" in sys.argv else None
    if (reuse and not (only and "memory" in only)) or (only and "memory" not in only):
        memory = json.loads(memory_cache.read_text()) if memory_cache.exists() else None
    else:
        memory = run_memory(min(len(rounds), 3) or 1)
        memory_cache.write_text(json.dumps(memory))
    rustc = subprocess.run(["rustc", "--version"], capture_output=True,
                           text=True).stdout.strip()

    lines = [
        "# Benchmarks",
        "",
        "Written by `python3 benches/python/compare.py`, which runs the criterion",
        "benches and the CPython scripts in `benches/python/` back to back on one",
        "machine (reproduce with that command; `--rounds N --seconds S` sets the",
        "rounds, `--reuse` rewrites the tables from the last run's figures).",
        "Ratios below 1 favour the crate; targets are SPEC.md's. The",
        f"benches ran in {len(rounds)} round(s)"
        + (f" of {seconds:g} s of measurement per figure" if not reuse else "")
        + ": a ratio is the",
        "median of the rounds' ratios (each round takes the crate's figure and",
        "its peer's seconds apart), with their range in brackets; a time is the",
        "median of the rounds' criterion medians. The verdict reads the median.",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, {rustc}, {version}.",
        "",
        "![crate ÷ peer for every target](benches/ratios.svg)",
        "",
        RUST_SECTION,
        "",
        "| scenario | crate | peer | crate ÷ peer (target) |",
        "| --- | --- | --- | --- |",
    ]
    bars = []
    fmt_ratio = lambda r: f"{r:.2f}×"  # noqa: E731
    for (name, ours, peer_id, peer, target) in SCENARIOS:
        mine, theirs = median_time(ours), median_time(peer_id)
        values = ratios(ours, peer_id)
        median, shown = spread(values, fmt_ratio)
        if median is None:
            ratio = f"not run (≤ {target}×)"
            bars.append((name, None, None, None, target))
        else:
            ratio = f"{shown} ≤ {target}× {verdict(median <= target)}"
            bars.append((name, median, min(values), max(values), target))
        lines.append(f"| {name} | {fmt_time(mine)} | {peer} {fmt_time(theirs)} | {ratio} |")

    lines += ["", "## Against CPython", "",
              "The same programs under CPython. SPEC.md asks that the crate's speed-up",
              "over CPython be at least 0.9× the Rust peer's own speed-up on the same",
              "workload (the crate adds nothing to tokio's cost). Where asyncio's",
              "algorithm is O(N²), the gap is also given in orders of magnitude.",
              "",
              "| scenario | CPython | crate's speed-up | peer's speed-up | crate's ÷ peer's (≥ 0.9×) |",
              "| --- | --- | --- | --- | --- |"]
    for (name, ours, peer_id, peer, _script, py_id) in CPYTHON:
        py = cpython.get(py_id)
        mine, theirs = median_time(ours), median_time(peer_id)
        if not (py and mine and theirs):
            lines.append(f"| {name} | {fmt_time(py)} | not run | not run | n/a |")
            continue
        ours_up, peer_up = py / mine, py / theirs
        relative = ours_up / peer_up
        crate_text = speedup_text(ours_up)
        if py_id in QUADRATIC:
            import math
            crate_text += f" ({math.log10(ours_up):.1f} orders of magnitude)"
        lines.append(f"| {name} | {fmt_time(py)} | {crate_text} | {peer} "
                     f"{speedup_text(peer_up)} | {relative:.2f}× {verdict(relative >= 0.9)} |")

    lines += ["", "## Scaling (O(N) in total)", "",
              "| what | crate's ratio (target) | JoinSet's own ratio |",
              "| --- | --- | --- |"]

    def per_task(large_id, small_id, sizes):
        """Per-task cost at the large size over that at the small one."""
        return [r / sizes for r in ratios(large_id, small_id)]

    for (name, small_id, small_n, large_id, large_n, target,
         peer_small_id, peer_large_id) in SCALING:
        sizes = large_n / small_n
        median, shown = spread(per_task(large_id, small_id, sizes), fmt_ratio)
        peer_median, peer = spread(per_task(peer_large_id, peer_small_id, sizes), fmt_ratio)
        if median is not None:
            # SPEC: where the peer's own ratio exceeds the target, the crate
            # meets it by scaling no worse than the peer.
            ok = median <= target or (peer_median is not None and median <= peer_median)
            lines.append(f"| {name} | {shown} ≤ {target}× {verdict(ok)} | {peer} |")
        else:
            lines.append(f"| {name} | n/a | {peer} |")
    lines += ["", "## Peak memory", "",
              "Peak resident set (`VmHWM`) of one process per figure: N tasks spawned",
              "from inside a task and left pending, then all cancelled and drained one at",
              "a time (`examples/task_memory.rs`); the map's peak from GNU time's `%M`",
              "(`examples/map_progress.rs N --bare`). Medians over the processes, range in",
              "brackets. A drain must not double the peak: what it adds stays below what",
              "the pending tasks hold.",
              "",
              "| scenario | crate, bytes a task (drain adds) | peer | crate ÷ peer (target) |",
              "| --- | --- | --- | --- |"]
    fmt_bytes = lambda b: f"{b:.0f}"  # noqa: E731
    if memory is None:
        lines.append("| (not measured: run without `--reuse`, or with `--only memory`) | | | |")
    else:
        for (name, ours, peer_args, peer, target) in MEMORY:
            mine = memory["tasks"].get(" ".join(ours), [])
            theirs = memory["tasks"].get(" ".join(peer_args), [])
            if not (mine and theirs):
                lines.append(f"| {name} | not run | {peer} not run | n/a |")
                continue
            mine_pending = statistics.median(p for p, _ in mine)
            mine_drain = statistics.median(d for _, d in mine)
            peer_pending = statistics.median(p for p, _ in theirs)
            peer_drain = statistics.median(d for _, d in theirs)
            _, shown = spread([p for p, _ in mine], fmt_bytes)
            ratio = mine_pending / peer_pending
            ok = ratio <= target and mine_drain < mine_pending
            lines.append(f"| {name} | {shown} ({mine_drain:.0f}) | {peer} {peer_pending:.0f} "
                         f"({peer_drain:.0f}) | {ratio:.2f}× ≤ {target}× {verdict(ok)} |")
            bars.append((memory_bar_name(name), ratio, ratio, ratio, target))
        peaks = [statistics.median(memory["map"][str(n)]) for n in MAP_SIZES
                 if memory["map"].get(str(n))]
        if len(peaks) != len(MAP_SIZES):
            lines.append("| bounded map peak RSS, 10M items ÷ 1M | not run (needs /usr/bin/time) | | |")
        else:
            small, large = peaks
            ratio = large / small
            lines.append(f"| bounded map peak RSS, {MAP_SIZES[1] // 1_000_000}M items ÷ "
                         f"{MAP_SIZES[0] // 1_000_000}M | {large / 1e6:.1f} MB | "
                         f"{small / 1e6:.1f} MB at {MAP_SIZES[0] // 1_000_000}M | "
                         f"{ratio:.2f}× ≤ 1.1× {verdict(ratio <= 1.1)} |")
    lines += ["", "## Context (no target)", "",
              "| what | crate | other | crate ÷ other |", "| --- | --- | --- | --- |"]
    for (name, ours, other_id, other) in CONTEXT:
        mine, theirs = median_time(ours), median_time(other_id)
        _, ratio = spread(ratios(ours, other_id), fmt_ratio)
        lines.append(f"| {name} | {fmt_time(mine)} | {other} {fmt_time(theirs)} | {ratio} |")
    path = ROOT / "BENCHMARKS.md"
    old = path.read_text() if path.exists() else ""
    lines, kept = keep_earlier_rows(lines, old, bars)
    if kept:
        print(f"compare.py: {kept} row(s) had no figures in this run or the saved one; "
              "kept as BENCHMARKS.md had them (say so in its notes)", file=sys.stderr)
    if NOTES_HEADING in old:
        lines += ["", old[old.index(NOTES_HEADING):].rstrip("\n")]
    path.write_text("\n".join(lines) + "\n")
    CHART.write_text(chart(bars))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
