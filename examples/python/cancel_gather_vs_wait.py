"""Twin of examples/cancel_gather_vs_wait.rs: cancelling the task that awaits
gather cancels the children (behaviour 25); cancelling the task that awaits
wait does not (behaviour 39)."""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "support"))
from timeline import Trace, outcome, run, say, ticks  # noqa: E402


def child(trace, name, after):
    async def body():
        await asyncio.sleep(ticks(after))
        return after

    return asyncio.create_task(trace.task(name, body()))


async def main():
    say("1. the task awaiting gather(a, b) is cancelled at t=1: a and b are cancelled too")
    trace = Trace()
    a, b = child(trace, "a", 2), child(trace, "b", 3)

    async def gather_them():
        await asyncio.gather(a, b)

    waiter = asyncio.create_task(trace.task("waiter", gather_them()))
    await asyncio.sleep(ticks(1))
    waiter.cancel()
    await asyncio.wait([waiter])
    trace.resumed("main", f"waiter -> {outcome(waiter)}")
    await asyncio.sleep(ticks(3))
    trace.show()

    say("2. the task awaiting wait({a, b}) is cancelled at t=1: a and b run on")
    trace = Trace()
    a, b = child(trace, "a", 2), child(trace, "b", 3)

    async def wait_them():
        done, _ = await asyncio.wait([a, b])
        return len(done)

    waiter = asyncio.create_task(trace.task("waiter", wait_them()))
    await asyncio.sleep(ticks(1))
    waiter.cancel()
    await asyncio.wait([waiter])
    trace.resumed("main", f"waiter -> {outcome(waiter)}")
    await asyncio.wait([a, b])
    trace.resumed("main", "a and b are done")
    trace.show()


run(main())
