"""1M items through an asyncio.Queue of capacity 1024, with task_done() per
item and join() at the end: one producer and one consumer, then four of
each. The CPython side of benches/queue.rs (`queue_1M_cap1024/asyncio/..`).
"""

import asyncio

from common import measure

ITEMS = 1_000_000
CAPACITY = 1024


async def run(producers, consumers):
    queue = asyncio.Queue(maxsize=CAPACITY)

    async def produce(p):
        for i in range(p, ITEMS, producers):
            await queue.put(i)

    async def consume(c):
        for _ in range(c, ITEMS, consumers):
            await queue.get()
            queue.task_done()

    tasks = [asyncio.create_task(produce(p)) for p in range(producers)]
    tasks += [asyncio.create_task(consume(c)) for c in range(consumers)]
    await queue.join()
    await asyncio.gather(*tasks)


measure("queue/1P1C", lambda: run(1, 1), runs=3)
measure("queue/4P4C", lambda: run(4, 4), runs=3)
