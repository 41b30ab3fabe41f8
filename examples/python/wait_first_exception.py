"""Twin of examples/wait_first_exception.rs: a wait(FIRST_EXCEPTION) loop
that replaces failed tasks (behaviours 37, 38)."""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "support"))
from timeline import Trace, listed, run, say, ticks  # noqa: E402


async def main():
    say("job2 fails at t=1 and job3 at t=5; each failed job is retried once")
    trace = Trace()
    names = {}

    def job(name, after, fails):
        async def body():
            await asyncio.sleep(ticks(after))
            if fails:
                raise RuntimeError(f"{name} crashed")
            return after

        task = asyncio.create_task(trace.task(name, body()))
        names[task] = name
        return task

    pending = {job("job1", 2, False), job("job2", 1, True), job("job3", 5, True)}
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
        finished = sorted(done, key=lambda task: names[task])
        trace.resumed("main", f"wait -> done {listed(names[task] for task in finished)}")
        for task in finished:
            name = names[task]
            if task.exception() is not None and not name.endswith("-retry"):
                pending.add(job(f"{name}-retry", 3, False))
    trace.show()


run(main())
