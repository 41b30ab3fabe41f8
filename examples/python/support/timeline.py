"""The event trace and the timeline of examples/support/timeline.rs, for the
Python twins. Both print the same text for the same events.

A trace line is `t=<tick> <task> <event>`; the events are `start`,
`finish [value]`, `fail <error>`, `cancelled`, `resumed <what>` (the awaiting
side got its answer) and `note <text>`.

`run(main)` runs a coroutine on an event loop with a virtual clock: when
nothing is ready, the clock jumps to the next timer instead of sleeping, as
tokio's paused clock does. Ticks are therefore exact, the programs finish at
once, and a program that would hang forever raises instead. Standard library
only; Python 3.11+.
"""

import asyncio
import selectors

TICK = 0.1
"""One tick of virtual time (100 ms), as in the Rust examples."""

MARKS = {
    "start": "├",
    "finish": "┤",
    "fail": "✗",
    "cancelled": "╳",
    "resumed": "◀",
    "note": "┼",
}
ENDS = ("finish", "fail", "cancelled")


def ticks(n):
    return n * TICK


class Hang(RuntimeError):
    """Nothing is scheduled and nothing can wake the program: it would hang."""


class _VirtualSelector(selectors.BaseSelector):
    """Polls the real selector without blocking; instead of waiting for the
    next timer, moves the loop's clock to it."""

    def __init__(self):
        self._inner = selectors.DefaultSelector()
        self.now = 0.0

    def register(self, fileobj, events, data=None):
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj):
        return self._inner.unregister(fileobj)

    def modify(self, fileobj, events, data=None):
        return self._inner.modify(fileobj, events, data)

    def get_key(self, fileobj):
        return self._inner.get_key(fileobj)

    def get_map(self):
        return self._inner.get_map()

    def close(self):
        self._inner.close()

    def select(self, timeout=None):
        ready = self._inner.select(0)
        if ready:
            return ready
        if timeout is None:
            raise Hang("nothing is scheduled: the program would hang forever")
        if timeout > 0:
            self.now += timeout
        return []


class _VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self):
        self._virtual = _VirtualSelector()
        super().__init__(self._virtual)

    def time(self):
        return self._virtual.now


def run(main):
    """asyncio.run(main) on the virtual clock."""
    with asyncio.Runner(loop_factory=_VirtualLoop) as runner:
        return runner.run(main)



def say(line):
    print(line)


class Trace:
    """A recorder of events; tick 0 is when it is made (or last shown)."""

    def __init__(self):
        self._loop = asyncio.get_running_loop()
        self._origin = self._loop.time()
        self.events = []

    def tick(self):
        return round((self._loop.time() - self._origin) / TICK)

    def event(self, task, kind, detail=None):
        self.events.append((self.tick(), task, kind, detail))

    def resumed(self, task, what):
        self.event(task, "resumed", str(what))

    def note(self, task, text):
        self.event(task, "note", str(text))

    async def task(self, name, body):
        """Wraps a task's body: `start`, then `finish` or `fail` with its
        outcome, or `cancelled`. A task cancelled before it ran records
        nothing."""
        self.event(name, "start")
        try:
            value = await body
        except asyncio.CancelledError:
            self.event(name, "cancelled")
            raise
        except Exception as error:
            self.event(name, "fail", str(error))
            raise
        self.event(name, "finish", None if value is None else shown(value))
        return value

    def show(self):
        """Prints the trace, then the timeline, and starts again at tick 0."""
        events, self.events = self.events, []
        self._origin = self._loop.time()
        for line in render(events).splitlines():
            say(line)


def shown(value):
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def outcome(task):
    """How a finished task ended, as the trace says it."""
    if task.cancelled():
        return "cancelled"
    error = task.exception()
    if error is not None:
        return f"fail {error}"
    return shown(task.result())


def error_text(error):
    """An exception caught from an await, as the trace says it."""
    if isinstance(error, asyncio.CancelledError):
        return "cancelled"
    return f"fail {error}"


def listed(items):
    return "[" + ", ".join(shown(item) for item in items) + "]"


def _text(kind, detail):
    if kind == "start":
        return "start"
    if kind == "cancelled":
        return "cancelled"
    if kind == "finish" and detail is None:
        return "finish"
    return f"{kind} {detail}"


PHASE = {"note": 0, "finish": 0, "fail": 0, "cancelled": 1, "resumed": 2, "start": 3}


def render(events):
    """The trace lines, then the timeline. Within a tick, each task's events
    are printed together, in the order it did them, and the tasks by the
    first of those events (notes, finishes and failures; cancellations; the
    awaiting side resuming; starts), ties by task name, as render() in
    examples/support/timeline.rs: tasks ready at the same virtual instant run
    in different orders in tokio and asyncio, and even between asyncio
    versions."""
    if not events:
        return ""
    first = {}
    for tick, task, kind, _ in events:
        first.setdefault((tick, task), PHASE[kind])
    order = sorted(range(len(events)), key=lambda seq: (events[seq][0], first[events[seq][0], events[seq][1]], events[seq][1], seq))
    events = [events[seq] for seq in order]
    width = max(4, max(len(task) for _, task, _, _ in events))
    lines = [f"t={tick:<3} {task:<{width}} {_text(kind, detail)}" for tick, task, kind, detail in events]
    last = max(tick for tick, _, _, _ in events)
    scale = 4 if last <= 16 else 2 if last <= 32 else 1
    every = 1 if scale == 4 else 5 if scale == 2 else 10
    columns = last * scale + 1
    header = [" "] * (columns + 3)
    for tick in range(0, last + 1, every):
        for offset, digit in enumerate(str(tick)):
            if tick * scale + offset < len(header):
                header[tick * scale + offset] = digit
    lines.append(f"{'tick':<{width}}   {''.join(header).rstrip()}")
    lanes = []
    for _, task, _, _ in events:
        if task not in lanes:
            lanes.append(task)
    for lane in lanes:
        mine = [event for event in events if event[1] == lane]
        first = mine[0][0] * scale
        end = mine[-1][0] * scale
        row = [" "] * columns
        for column in range(first, end + 1):
            row[column] = "─"
        # Where two events share a column, the first mark stays, unless a
        # later one ends the task: an ending is never hidden.
        marked = [False] * columns
        for tick, _, kind, _ in mine:
            column = tick * scale
            if not marked[column] or kind in ENDS:
                row[column] = MARKS[kind]
                marked[column] = True
        _, _, kind, detail = mine[-1]
        label = "running" if kind == "start" else _text(kind, detail)
        lines.append(f"{lane:<{width}}   {''.join(row)}  {label}")
    lines.append(f"{'':<{width}}   ├ start  ┤ finish  ✗ fail  ╳ cancelled  ◀ resumed  ┼ event")
    return "\n".join(lines) + "\n"
