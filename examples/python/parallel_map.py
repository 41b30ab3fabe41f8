"""Twin of examples/parallel_map.rs: the bounded parallel_map asyncio users
write by hand (a semaphore and gather), where one input fails. gather
raises, and the other items run on (behaviour 18); the crate's map cancels
and joins them instead."""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "support"))
from timeline import Trace, error_text, listed, run, say, ticks  # noqa: E402


def work(x):
    return [2, 1, 3, 3, 1, 2][x], x == 2


async def parallel_map(f, inputs, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(x):
        async with semaphore:
            return await f(x)

    return await asyncio.gather(*(one(x) for x in inputs))


async def main():
    say("parallel_map over 6 items, 2 at a time; item 2 fails at t=4")
    trace = Trace()

    async def body(x):
        duration, fails = work(x)
        await asyncio.sleep(ticks(duration))
        if fails:
            raise ValueError(f"item {x} is bad")
        return x * 10

    try:
        values = await parallel_map(lambda x: trace.task(f"item{x}", body(x)), range(6), 2)
        trace.resumed("main", listed(values))
    except Exception as error:
        trace.resumed("main", f"parallel_map raised {error_text(error)}")
    # Has anything been left behind? gather did not cancel the others.
    await asyncio.sleep(ticks(4))
    trace.resumed("main", "4 ticks later")
    trace.show()


run(main())
