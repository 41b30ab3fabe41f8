"""Twin of examples/task_group_child_fails.rs: a TaskGroup whose child fails
cancels the others and the body, then raises an ExceptionGroup
(behaviour 90)."""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "support"))
from timeline import Trace, listed, run, say, ticks  # noqa: E402


async def main():
    say("a TaskGroup with a (3 ticks), b (fails at t=1), c (5 ticks); the body sleeps 10")
    trace = Trace()

    async def child(name, after, fails):
        await asyncio.sleep(ticks(after))
        if fails:
            raise ValueError(f"{name} broke")
        return after

    async def body(tg):
        for name, after, fails in [("a", 3, False), ("b", 1, True), ("c", 5, False)]:
            tg.create_task(trace.task(name, child(name, after, fails)))
        await asyncio.sleep(ticks(10))

    try:
        async with asyncio.TaskGroup() as tg:
            await trace.task("body", body(tg))
        trace.resumed("main", "the group finished")
    except ExceptionGroup as group:
        trace.resumed("main", f"TaskGroup raised {listed(group.exceptions)}")
    trace.show()


run(main())
