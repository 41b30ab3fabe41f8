"""Draining N tasks in completion order, each released by the previous
one's completion (so they finish one at a time): as_completed and a
wait(FIRST_COMPLETED) loop. The CPython side of benches/wait.rs
(`drain_in_completion_order/...`). The wait loop is O(N^2) in asyncio, so
it is only run up to 10k here."""

import asyncio

from common import measure, sizes


def chain(n):
    loop = asyncio.get_running_loop()
    gates = [loop.create_future() for _ in range(n)]

    async def chained(i):
        await gates[i]
        return i

    tasks = [asyncio.create_task(chained(i)) for i in range(n)]

    def release(i):
        if i < n:
            gates[i].set_result(None)

    return tasks, release


async def drain_as_completed(n):
    tasks, release = chain(n)
    release(0)
    count = 0
    for next_done in asyncio.as_completed(tasks):
        i = await next_done
        release(i + 1)
        count += 1
    assert count == n


async def drain_wait_loop(n):
    tasks, release = chain(n)
    release(0)
    pending = set(tasks)
    count = 0
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            release(task.result() + 1)
            count += 1
    assert count == n


for n in sizes([1_000, 10_000, 100_000]):
    measure(f"as_completed/{n}", lambda n=n: drain_as_completed(n), runs=3)
    if n <= 10_000:
        measure(f"wait_loop/{n}", lambda n=n: drain_wait_loop(n), runs=3)
