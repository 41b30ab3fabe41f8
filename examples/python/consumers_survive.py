"""Twin of examples/consumers_survive.rs: consumers that survive timeouts and
unexpected errors, with try/except/finally: task_done()."""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "support"))
from timeline import Trace, run, say, ticks  # noqa: E402


async def handle(n):
    after, fails = [(1, False), (2, True), (5, False), (1, False), (1, False)][n]
    await asyncio.sleep(ticks(after))
    if fails:
        raise ValueError(f"bad item {n}")
    return n * 10


async def main():
    say("two consumers, five items: item 1 fails, item 2 is too slow (3-tick timeout)")
    trace = Trace()
    queue = asyncio.Queue()
    for item in range(5):
        queue.put_nowait(item)

    async def consumer(name):
        while True:
            n = await queue.get()
            try:
                value = await asyncio.wait_for(handle(n), ticks(3))
                trace.note(name, f"item {n} -> {value}")
            except TimeoutError:
                trace.note(name, f"item {n} timed out")
            except Exception as error:
                trace.note(name, f"item {n} failed: {error}")
            finally:
                queue.task_done()

    consumers = [asyncio.create_task(trace.task(name, consumer(name))) for name in ["w0", "w1"]]
    await queue.join()
    trace.resumed("main", "join returned: every item is done")
    for task in consumers:
        task.cancel()
    await asyncio.gather(*consumers, return_exceptions=True)
    trace.show()


run(main())
