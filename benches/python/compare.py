"""Runs the crate's criterion benches and the CPython scripts beside them,
back to back on this machine, and writes the ratios into BENCHMARKS.md.
Not part of CI (it takes about ten minutes):

    python3 benches/python/compare.py                 # 5 rounds of 2 s each
    python3 benches/python/compare.py --rounds 3 --seconds 4
    python3 benches/python/compare.py --reuse         # the last run's rounds, tables rewritten

A shared machine's speed drifts by tens of percent over minutes, so one
long criterion run can put the crate in a fast minute and its peer in a
slow one. The benches therefore run in several short rounds
(ASYNCIO_BENCH_SECONDS of measurement per figure); each round gives a
ratio per scenario from figures taken seconds apart, and the report gives
the median ratio with the range over the rounds.

The CPython interpreter is $PYTHON, or python3.13 if it is on the PATH or
under pyenv, or python3. Targets are SPEC.md's.
"""

import json
import os
import statistics
import platform
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CRITERION = ROOT / "target" / "criterion"
HERE = Path(__file__).resolve().parent

# (scenario, crate's criterion id, peer's criterion id, peer, target vs peer,
#  CPython script, CPython bench, speed-up target vs CPython)
SCENARIOS = [
    ("gather, 10k trivial futures", "gather/asyncio_gather/10000",
     "gather/tokio_join_set/10000", "JoinSet", 1.2, "gather.py", "gather/10000", 20),
    ("gather, 100k trivial futures", "gather/asyncio_gather/100000",
     "gather/tokio_join_set/100000", "JoinSet", 1.2, "gather.py", "gather/100000", 20),
    ("as_completed drain, 1k", "drain_in_completion_order/asyncio_as_completed/1000",
     "drain_in_completion_order/tokio_join_set/1000", "JoinSet", 1.2,
     "drain.py", "as_completed/1000", 20),
    ("as_completed drain, 10k", "drain_in_completion_order/asyncio_as_completed/10000",
     "drain_in_completion_order/tokio_join_set/10000", "JoinSet", 1.2,
     "drain.py", "as_completed/10000", 20),
    ("as_completed drain, 100k", "drain_in_completion_order/asyncio_as_completed/100000",
     "drain_in_completion_order/tokio_join_set/100000", "JoinSet", 1.2,
     "drain.py", "as_completed/100000", 20),
    ("wait(FirstCompleted) loop drain, 1k", "drain_in_completion_order/asyncio_wait_loop/1000",
     "drain_in_completion_order/tokio_join_set/1000", "JoinSet", 1.2,
     "drain.py", "wait_loop/1000", 20),
    ("wait(FirstCompleted) loop drain, 10k", "drain_in_completion_order/asyncio_wait_loop/10000",
     "drain_in_completion_order/tokio_join_set/10000", "JoinSet", 1.2,
     "drain.py", "wait_loop/10000", 20),
    ("wait(FirstCompleted) loop drain, 100k", "drain_in_completion_order/asyncio_wait_loop/100000",
     "drain_in_completion_order/tokio_join_set/100000", "JoinSet", 1.2, None, None, 20),
    ("TaskGroup spawn + join, 10k", "task_group_spawn_join/asyncio_task_group/10000",
     "task_group_spawn_join/tokio_join_set/10000", "JoinSet", 1.0, "task_group.py",
     "task_group/10000", 20),
    ("TaskGroup spawn + join, 100k", "task_group_spawn_join/asyncio_task_group/100000",
     "task_group_spawn_join/tokio_join_set/100000", "JoinSet", 1.0, "task_group.py",
     "task_group/100000", 20),
    ("TaskGroup, cancel 100k pending", "task_group_cancel_pending/asyncio_task_group/100000",
     "task_group_cancel_pending/tokio_join_set/100000", "JoinSet shutdown", 1.0,
     "task_group.py", "task_group_cancel/100000", 20),
    ("TaskSet spawn + shutdown, 100k pending", "task_set_spawn_shutdown/asyncio_task_set/100000",
     "task_set_spawn_shutdown/tokio_join_set/100000", "JoinSet spawn + shutdown", 1.0,
     None, None, 20),
    ("Queue, 1M items, capacity 1024, 1P/1C", "queue_1M_cap1024/asyncio/1P1C",
     "queue_1M_cap1024/flume/1P1C", "flume", 1.5, "queue_bench.py", "queue/1P1C", 20),
    ("Queue, 1M items, capacity 1024, 4P/4C", "queue_1M_cap1024/asyncio/4P4C",
     "queue_1M_cap1024/async_channel/4P4C", "async-channel", 2.0, "queue_bench.py",
     "queue/4P4C", 5),
]

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
]

# BENCHMARKS.md's section written by hand (run-to-run variance, analysis):
# kept as it is when the figures above it are rewritten.
NOTES_HEADING = "## Notes (written by hand)"

BENCHES = ["gather", "wait", "queue", "task_group"]


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


def criterion_seconds(bench_id):
    path = CRITERION / bench_id / "new" / "estimates.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())["median"]["point_estimate"] / 1e9


def run_python(interpreter):
    results = {}
    for script in sorted({s[5] for s in SCENARIOS if s[5]}):
        out = subprocess.run([interpreter, str(HERE / script)], cwd=HERE,
                             check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            row = json.loads(line)
            results[row["bench"]] = row["seconds"]
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
    # One decimal below 10, so that 4.5× is not printed as a 5× that misses 5×.
    return f"{speedup:.1f}×" if speedup < 10 else f"{speedup:.0f}×"


def option(name, default):
    if name in sys.argv:
        return type(default)(sys.argv[sys.argv.index(name) + 1])
    return default


def all_ids():
    ids = set()
    for row in SCENARIOS:
        ids.update([row[1], row[2]])
    for row in SCALING:
        ids.update([row[1], row[3], row[6], row[7]])
    for row in CONTEXT:
        ids.update([row[1], row[2]])
    return ids


def run_round(seconds):
    """One round of every bench; returns each id's median time."""
    args = ["cargo", "bench"]
    for bench in BENCHES:
        args += ["--bench", bench]
    args += ["--", "--noplot"]
    env = dict(os.environ, ASYNCIO_BENCH_SECONDS=str(seconds))
    subprocess.run(args, cwd=ROOT, check=True, env=env)
    return {bench_id: criterion_seconds(bench_id) for bench_id in all_ids()}


def spread(values, fmt):
    """The median of `values` and, with more than one, their range."""
    values = [v for v in values if v is not None]
    if not values:
        return None, "n/a"
    median = statistics.median(values)
    if len(values) == 1:
        return median, fmt(median)
    return median, f"{fmt(median)} [{fmt(min(values))}–{fmt(max(values))}]"


def main():
    reuse = "--reuse" in sys.argv
    rounds_wanted = option("--rounds", 5)
    seconds = option("--seconds", 2.0)
    saved = ROOT / "target" / "compare-rounds.json"
    if reuse and saved.exists():
        rounds = json.loads(saved.read_text())
    elif reuse:
        rounds = [{bench_id: criterion_seconds(bench_id) for bench_id in all_ids()}]
    else:
        rounds = [run_round(seconds) for _ in range(rounds_wanted)]
        saved.write_text(json.dumps(rounds))

    def median_time(bench_id):
        return spread([r[bench_id] for r in rounds], fmt_time)[0]

    def ratios(num_id, den_id):
        return [r[num_id] / r[den_id] for r in rounds if r[num_id] and r[den_id]]

    interpreter = python()
    version = subprocess.run([interpreter, "--version"], capture_output=True,
                             text=True).stdout.strip()
    cpython = run_python(interpreter)
    rustc = subprocess.run(["rustc", "--version"], capture_output=True,
                           text=True).stdout.strip()

    lines = [
        "# Benchmarks",
        "",
        "Written by `python3 benches/python/compare.py`, which runs the criterion",
        "benches and the CPython scripts in `benches/python/` back to back on one",
        "machine. Ratios below 1 favour the crate; targets are SPEC.md's. The",
        f"benches ran in {len(rounds)} round(s)"
        + (f" of {seconds:g} s of measurement per figure" if not reuse else "")
        + ": a ratio is the",
        "median of the rounds' ratios (each round takes the crate's figure and",
        "its peer's seconds apart), with their range in brackets; a time is the",
        "median of the rounds' criterion medians. The verdict reads the median.",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, {rustc}, {version}.",
        "",
        "## Against the Rust peer and CPython",
        "",
        "| scenario | crate | peer | crate ÷ peer (target) | CPython | CPython ÷ crate (target) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for (name, ours, peer_id, peer, target, _script, py_id, py_target) in SCENARIOS:
        mine = median_time(ours)
        theirs = median_time(peer_id)
        py = cpython.get(py_id) if py_id else None
        median, shown = spread(ratios(ours, peer_id), lambda r: f"{r:.2f}×")
        ratio = (f"{shown} ≤ {target}× {verdict(median <= target)}"
                 if median is not None else "n/a")
        speedup = (f"{speedup_text(py / mine)} ≥ {py_target}× "
                   f"{verdict(py / mine >= py_target)}" if mine and py else "not run")
        lines.append(f"| {name} | {fmt_time(mine)} | {peer} {fmt_time(theirs)} | {ratio} "
                     f"| {fmt_time(py)} | {speedup} |")
    lines += ["", "## Scaling (O(N) in total)", "",
              "| what | crate's ratio (target) | JoinSet's own ratio |",
              "| --- | --- | --- |"]
    def per_task(large_id, small_id, sizes):
        """Per-task cost at the large size over that at the small one."""
        return [r / sizes for r in ratios(large_id, small_id)]

    for (name, small_id, small_n, large_id, large_n, target,
         peer_small_id, peer_large_id) in SCALING:
        fmt = lambda r: f"{r:.2f}×"  # noqa: E731
        sizes = large_n / small_n
        median, shown = spread(per_task(large_id, small_id, sizes), fmt)
        _, peer = spread(per_task(peer_large_id, peer_small_id, sizes), fmt)
        if median is not None:
            lines.append(f"| {name} | {shown} ≤ {target}× "
                         f"{verdict(median <= target)} | {peer} |")
        else:
            lines.append(f"| {name} | n/a | {peer} |")
    lines += ["", "## Context (no target)", "",
              "| what | crate | other | crate ÷ other |", "| --- | --- | --- | --- |"]
    for (name, ours, other_id, other) in CONTEXT:
        mine, theirs = median_time(ours), median_time(other_id)
        _, ratio = spread(ratios(ours, other_id), lambda r: f"{r:.2f}×")
        lines.append(f"| {name} | {fmt_time(mine)} | {other} {fmt_time(theirs)} | {ratio} |")
    path = ROOT / "BENCHMARKS.md"
    old = path.read_text() if path.exists() else ""
    if NOTES_HEADING in old:
        lines += ["", old[old.index(NOTES_HEADING):].rstrip("\n")]
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
