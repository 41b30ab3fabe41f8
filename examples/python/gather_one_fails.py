"""Twin of examples/gather_one_fails.rs: gather where one child fails while
the others keep running (behaviour 18)."""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "support"))
from timeline import Trace, error_text, listed, run, say, ticks  # noqa: E402


async def main():
    say("gather: child b fails at t=2; gather raises at once, a and c are not cancelled")
    trace = Trace()

    async def body(after, result):
        await asyncio.sleep(ticks(after))
        if isinstance(result, Exception):
            raise result
        return result

    a = asyncio.create_task(trace.task("a", body(1, 1)))
    b = asyncio.create_task(trace.task("b", body(2, ValueError("boom"))))
    c = asyncio.create_task(trace.task("c", body(4, 3)))
    try:
        values = await asyncio.gather(a, b, c)
        trace.resumed("main", listed(values))
    except Exception as error:
        trace.resumed("main", f"gather raised {error_text(error)}")
    # The siblings run on: await c.
    trace.resumed("main", f"c -> {await c}")
    trace.show()


run(main())
