"""Twin of examples/worker_dies.rs: a worker dies without task_done(), and
queue.join() hangs forever (behaviours 113, 114). The join is bounded by
wait_for on the virtual clock, so this program ends and says it hung; the
crate's guarded items prevent the hang."""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "support"))
from timeline import Trace, run, say, ticks  # noqa: E402


async def main():
    say("two workers, four items; w1 dies on item 1 without task_done")
    trace = Trace()
    queue = asyncio.Queue()
    for item in range(4):
        queue.put_nowait(item)

    async def worker(name):
        while True:
            item = await queue.get()
            await asyncio.sleep(ticks(1))
            if item == 1:
                raise RuntimeError(f"{name} died on item 1")
            queue.task_done()

    workers = [asyncio.create_task(trace.task(name, worker(name))) for name in ["w0", "w1"]]
    try:
        await asyncio.wait_for(queue.join(), ticks(10))
        trace.resumed("main", "join returned: every item is done")
    except TimeoutError:
        trace.resumed("main", "join hung: item 1 is never done")
    for task in workers:
        task.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    trace.show()


run(main())
