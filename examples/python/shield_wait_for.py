"""Twin of examples/shield_wait_for.rs: wait_for(shield(task)) times out
while the task runs on (behaviours 60, 81)."""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "support"))
from timeline import Trace, run, say, shown, ticks  # noqa: E402


async def work():
    await asyncio.sleep(ticks(3))
    return "saved"


async def main():
    say("wait_for(shield(save), 1 tick): the wait times out, save runs on to t=3")
    trace = Trace()
    save = asyncio.create_task(trace.task("save", work()))
    try:
        value = await asyncio.wait_for(asyncio.shield(save), ticks(1))
        trace.resumed("main", shown(value))
    except TimeoutError:
        trace.resumed("main", "wait_for raised TimeoutError")
    trace.resumed("main", f"save -> {await save}")
    trace.show()

    say("without shield, wait_for cancels save at the timeout")
    trace = Trace()
    save = asyncio.create_task(trace.task("save", work()))
    try:
        value = await asyncio.wait_for(save, ticks(1))
        trace.resumed("main", shown(value))
    except TimeoutError:
        trace.resumed("main", "wait_for raised TimeoutError")
    trace.show()


run(main())
