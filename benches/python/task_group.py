"""asyncio.TaskGroup, called inside a task: the CPython side of
benches/task_group.rs. `task_group/N` spawns N trivial children and leaves
the block (`task_group_spawn_join/asyncio_task_group/N`);
`task_group_cancel/N` spawns N children that never finish and cancels them
(3.15's `tg.cancel()` where it exists, else a failing child), as
`task_group_cancel_pending/asyncio_task_group/N` does."""

import asyncio

from common import measure, sizes


async def trivial(i):
    return i


async def spawn_join(n):
    async def inside_a_task():
        async with asyncio.TaskGroup() as tg:
            for i in range(n):
                tg.create_task(trivial(i))

    await asyncio.create_task(inside_a_task())


class Stop(Exception):
    pass


async def cancel_pending(n):
    async def inside_a_task():
        never = asyncio.Event()
        try:
            async with asyncio.TaskGroup() as tg:
                for _ in range(n):
                    tg.create_task(never.wait())
                await asyncio.sleep(0)  # every child starts and waits
                if hasattr(tg, "cancel"):
                    tg.cancel()
                else:
                    raise Stop
        except* Stop:
            pass

    await asyncio.create_task(inside_a_task())


for n in sizes([10_000, 100_000]):
    measure(f"task_group/{n}", lambda n=n: spawn_join(n))
# Quadratic in CPython 3.13 (5k: 0.18 s, 10k: 0.74 s, 20k: 3.3 s; 100k: 86 s
# on the reference machine): one run.
measure("task_group_cancel/100000", lambda: cancel_pending(100_000), runs=1)
