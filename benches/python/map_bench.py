"""The hand-written asyncio worker pool that the crate's bounded map
replaces: a Queue, 50 workers, results put back in input order. The CPython
side of benches/map.rs (`map_1m_limit_50/asyncio_map_ordered/N`); each item
yields once, as the Rust bench's items do."""

import asyncio

from common import measure, sizes

LIMIT = 50


async def item(i):
    await asyncio.sleep(0)
    return i


async def parallel_map(n):
    queue = asyncio.Queue(maxsize=2 * LIMIT)
    results = [None] * n

    async def worker():
        while True:
            index = await queue.get()
            try:
                results[index] = await item(index)
            finally:
                queue.task_done()

    workers = [asyncio.create_task(worker()) for _ in range(LIMIT)]
    for index in range(n):
        await queue.put(index)
    await queue.join()
    for w in workers:
        w.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    return sum(results)


async def inside_a_task(n):
    return await asyncio.create_task(parallel_map(n))


for n in sizes([1_000_000]):
    measure(f"map/{n}", lambda n=n: inside_a_task(n), runs=3)
