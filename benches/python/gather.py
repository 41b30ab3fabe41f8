"""asyncio.gather of N trivial coroutines, called inside a task: the
CPython side of benches/gather.rs (`gather/asyncio_gather/N`)."""

import asyncio

from common import measure, sizes


async def trivial(i):
    return i


async def gather_n(n):
    async def inside_a_task():
        values = await asyncio.gather(*(trivial(i) for i in range(n)))
        return sum(values)

    return await asyncio.create_task(inside_a_task())


for n in sizes([10_000, 100_000]):
    measure(f"gather/{n}", lambda n=n: gather_n(n))
