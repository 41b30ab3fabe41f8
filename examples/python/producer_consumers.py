"""Twin of examples/producer_consumers.rs: a producer with 50 consumers over
a bounded queue; join, then cancel the idle consumers (behaviours 114,
115)."""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "support"))
from timeline import Trace, run, say, ticks  # noqa: E402


async def main():
    say("200 items, a queue of 10, 50 consumers working one tick per item")
    trace = Trace()
    queue = asyncio.Queue(maxsize=10)

    # The 50 consumers are not traced one by one (100 lines of `start` and
    # `cancelled`): each counts what it handled, and main reports it.
    handled = [0] * 50

    async def consumer(n):
        while True:
            await queue.get()
            await asyncio.sleep(ticks(1))
            queue.task_done()
            handled[n] += 1

    async def producer():
        waited = False
        for item in range(200):
            if queue.full() and not waited:
                waited = True
                trace.note("producer", f"the queue is full at item {item}: put waits")
            await queue.put(item)
        return 200

    consumers = [asyncio.create_task(consumer(n)) for n in range(50)]
    await asyncio.create_task(trace.task("producer", producer()))
    trace.resumed("main", "the producer is done")
    await queue.join()
    trace.resumed("main", f"join returned: each consumer handled {min(handled)} to {max(handled)} items")
    for task in consumers:
        task.cancel()
    outcomes = await asyncio.gather(*consumers, return_exceptions=True)
    cancelled = sum(isinstance(outcome, asyncio.CancelledError) for outcome in outcomes)
    trace.resumed("main", f"{cancelled} consumers cancelled")
    trace.show()


run(main())
