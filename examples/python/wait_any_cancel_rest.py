"""Twin of examples/wait_any_cancel_rest.rs: wait(FIRST_COMPLETED), cancel
the pending tasks and gather them (behaviours 36, 23); the crate's race."""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "support"))
from timeline import Trace, outcome, run, say, ticks  # noqa: E402


async def main():
    say("three mirrors answer in 3, 1 and 2 ticks: take the first, cancel the others")
    trace = Trace()

    async def mirror(after):
        await asyncio.sleep(ticks(after))
        return after * 100

    mirrors = [
        asyncio.create_task(trace.task(name, mirror(after)))
        for name, after in [("mirror0", 3), ("mirror1", 1), ("mirror2", 2)]
    ]
    done, pending = await asyncio.wait(mirrors, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    winner = done.pop()
    trace.resumed("main", f"mirror{mirrors.index(winner)} won with {outcome(winner)}")
    trace.show()


run(main())
