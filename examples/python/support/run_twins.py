"""Runs the named Python twins in one interpreter, for tests/examples.rs:
starting one interpreter per twin costs more than the twins themselves.

    python3 examples/python/support/run_twins.py gather_one_fails worker_dies

Prints, for each twin, a record `\\x1e<name>\\x1f<ok|failed>\\x1f<output>`:
what the twin printed, or the traceback if it raised."""

import contextlib
import io
import os
import runpy
import sys
import traceback

TWINS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

for name in sys.argv[1:]:
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            runpy.run_path(os.path.join(TWINS, f"{name}.py"), run_name="__main__")
        status, output = "ok", printed.getvalue()
    except BaseException:  # noqa: B036 - report anything, including SystemExit
        status, output = "failed", printed.getvalue() + traceback.format_exc()
    sys.stdout.write(f"\x1e{name}\x1f{status}\x1f{output}")
sys.stdout.flush()
