"""The asyncio program that examples/cancellation.rs ports. Same output,
line by line:

    python3 examples/python/cancellation.py
    cargo run --example cancellation
"""

import asyncio

TICK = 0.1


async def main():
    # 1. A task starts at once and is awaited for its value.
    task = asyncio.create_task(asyncio.sleep(0, 6 * 7))
    print(f"1. awaited task -> {await task}")

    # 2. wait_for cancels the task on timeout, and waits until it is gone.
    slow = asyncio.create_task(asyncio.sleep(10 * TICK))
    try:
        await asyncio.wait_for(slow, TICK)
        outcome = "ok"
    except TimeoutError:
        outcome = "TimeoutError"
    print(f"2. wait_for(slow task) -> {outcome}; task done: {str(slow.done()).lower()}")

    # 3. shield: the wait times out, the task runs on and is awaited later.
    async def work():
        await asyncio.sleep(3 * TICK)
        return "saved"

    work_task = asyncio.create_task(work())
    try:
        await asyncio.wait_for(asyncio.shield(work_task), TICK)
        outcome = "ok"
    except TimeoutError:
        outcome = "TimeoutError"
    print(f"3. wait_for(shield(task)) -> {outcome}")
    print(f"   the shielded task later -> {await work_task}")

    # 4. A timeout scope whose deadline the body moves back.
    async with asyncio.timeout(TICK) as cm:
        cm.reschedule(asyncio.get_running_loop().time() + 5 * TICK)
        await asyncio.sleep(2 * TICK)
        outcome = "finished in time"
    print(f"4. rescheduled timeout -> {outcome}")

    # 5. A timeout that fires: the body stops at its await.
    reached_end = False
    try:
        async with asyncio.timeout(TICK) as cm:
            await asyncio.sleep(10 * TICK)
            reached_end = True
        outcome = "ok"
    except TimeoutError:
        outcome = "TimeoutError"
    print(
        f"5. timeout around a long sleep -> {outcome}; "
        f"expired: {str(cm.expired()).lower()}; body finished: {str(reached_end).lower()}"
    )

    # 6. A failure is a value; a cancellation is a value.
    async def failing():
        raise ValueError("bad input")

    failing_task = asyncio.create_task(failing())
    cancelled = asyncio.create_task(asyncio.sleep(10 * TICK))
    await asyncio.sleep(0)
    cancelled.cancel()
    results = await asyncio.gather(failing_task, cancelled, return_exceptions=True)

    def describe(result):
        if isinstance(result, asyncio.CancelledError):
            return "CancelledError"
        return f"failed: {result}"

    print(f"6. failing task -> {describe(results[0])}; cancelled task -> {describe(results[1])}")

    # 7. A failure nobody awaits is reported, never silenced.
    def handler(loop, context):
        error = context["exception"]
        print(f"7. unobserved error reported: a task failed and nobody observed its error: \"{error}\"")

    asyncio.get_running_loop().set_exception_handler(handler)

    async def lost():
        raise RuntimeError("lost")

    asyncio.create_task(lost())
    await asyncio.sleep(TICK)
    import gc

    gc.collect()  # asyncio reports when the failed task is collected
    await asyncio.sleep(0)


asyncio.run(main())
