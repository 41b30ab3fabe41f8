"""Runs the crate's criterion benches and the CPython scripts beside them,
back to back on this machine, and writes the ratios into BENCHMARKS.md.
Not part of CI (it takes several minutes):

    python3 benches/python/compare.py             # run everything
    python3 benches/python/compare.py --reuse     # reuse criterion's last results

The CPython interpreter is $PYTHON, or python3.13 if it is on the PATH or
under pyenv, or python3. Targets are SPEC.md's.
"""

import json
import os
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
    ("Queue, 1M items, capacity 1024, 1P/1C", "queue_1M_cap1024/asyncio/1P1C",
     "queue_1M_cap1024/flume/1P1C", "flume", 1.5, "queue_bench.py", "queue/1P1C", 20),
    ("Queue, 1M items, capacity 1024, 4P/4C", "queue_1M_cap1024/asyncio/4P4C",
     "queue_1M_cap1024/async_channel/4P4C", "async-channel", 2.0, "queue_bench.py",
     "queue/4P4C", 5),
]

# (what, crate's id at the small size, small N, id at the large size, large N, target)
SCALING = [
    ("gather, per task at 100k ÷ at 10k", "gather/asyncio_gather/10000", 10_000,
     "gather/asyncio_gather/100000", 100_000, 1.3),
    ("as_completed, per task at 100k ÷ at 1k",
     "drain_in_completion_order/asyncio_as_completed/1000", 1_000,
     "drain_in_completion_order/asyncio_as_completed/100000", 100_000, 1.5),
    ("wait loop, per task at 100k ÷ at 1k",
     "drain_in_completion_order/asyncio_wait_loop/1000", 1_000,
     "drain_in_completion_order/asyncio_wait_loop/100000", 100_000, 1.5),
]

BENCHES = ["gather", "wait", "queue"]


def python():
    if os.environ.get("PYTHON"):
        return os.environ["PYTHON"]
    for candidate in [shutil.which("python3.13"),
                      str(Path.home() / ".pyenv/versions/3.13.0/bin/python3")]:
        if candidate and Path(candidate).exists():
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


def main():
    reuse = "--reuse" in sys.argv
    if not reuse:
        args = ["cargo", "bench"]
        for bench in BENCHES:
            args += ["--bench", bench]
        subprocess.run(args, cwd=ROOT, check=True)
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
        "machine. Figures are medians; ratios below 1 favour the crate. Targets",
        "are SPEC.md's. A shared, noisy machine moves these figures by tens of",
        "percent between runs: compare ratios from one run, not across runs.",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, {rustc}, {version}.",
        "",
        "## Against the Rust peer and CPython",
        "",
        "| scenario | crate | peer | crate ÷ peer (target) | CPython | CPython ÷ crate (target) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for (name, ours, peer_id, peer, target, _script, py_id, py_target) in SCENARIOS:
        mine = criterion_seconds(ours)
        theirs = criterion_seconds(peer_id)
        py = cpython.get(py_id) if py_id else None
        ratio = (f"{mine / theirs:.2f}× ≤ {target}× {verdict(mine / theirs <= target)}"
                 if mine and theirs else "n/a")
        speedup = (f"{py / mine:.0f}× ≥ {py_target}× {verdict(py / mine >= py_target)}"
                   if mine and py else "not run")
        lines.append(f"| {name} | {fmt_time(mine)} | {peer} {fmt_time(theirs)} | {ratio} "
                     f"| {fmt_time(py)} | {speedup} |")
    lines += ["", "## Scaling (O(N) in total)", "",
              "| what | ratio (target) |", "| --- | --- |"]
    for (name, small_id, small_n, large_id, large_n, target) in SCALING:
        small, large = criterion_seconds(small_id), criterion_seconds(large_id)
        if small and large:
            ratio = (large / large_n) / (small / small_n)
            lines.append(f"| {name} | {ratio:.2f}× ≤ {target}× {verdict(ratio <= target)} |")
        else:
            lines.append(f"| {name} | n/a |")
    (ROOT / "BENCHMARKS.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
