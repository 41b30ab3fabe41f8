"""Twin of examples/as_completed_timeout.rs: as_completed with a timeout
(behaviours 42, 45): what is late raises TimeoutError, nothing is
cancelled."""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "support"))
from timeline import Trace, error_text, run, say, ticks  # noqa: E402


async def main():
    say("four downloads take 4, 1, 6 and 2 ticks; as_completed gives up after 3")
    trace = Trace()

    async def download(after):
        await asyncio.sleep(ticks(after))
        return after

    downloads = [asyncio.create_task(trace.task(f"dl{after}", download(after))) for after in [4, 1, 6, 2]]
    for next_done in asyncio.as_completed(downloads, timeout=ticks(3)):
        try:
            trace.resumed("main", f"got {await next_done}")
        except TimeoutError:
            trace.resumed("main", "TimeoutError")
        except Exception as error:
            trace.resumed("main", error_text(error))
    await asyncio.wait(downloads)
    trace.resumed("main", "every download is done: none was cancelled")
    trace.show()


run(main())
