"""Loop-lag sampler and stall watchdog, run inside the process whose loop is watched.

- The **sampler** is an asyncio task that sleeps 5 ms and notes how late it wakes: a
  stall of the loop seen from outside any single callback (asyncio's debug-mode
  slow-callback log misses stalls made of many short callbacks in one iteration).
- The **watchdog** is a thread. While the sampler's heartbeat is more than 50 ms old,
  it samples the loop thread's stack every 10 ms and notes the innermost frame that
  belongs to the watched file: that frame is what held the loop.

These figures only *explain* a stall (the grader's diagnosis, the notebooks' lag
trace). Verdicts never rest on them: a submission could fake what runs in its own
process, so deciding figures are taken outside it (see ``load.OpenLoopProbe``).
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

SAMPLE_EVERY = 0.005
STALL_AFTER = 0.050
STACK_EVERY = 0.010

_INSTALLED = {"site-packages", "dist-packages"}

Emit = Callable[[dict[str, Any]], None]


class LagMonitor:
    def __init__(self, watched_file: str | None, emit: Emit, *, trace_above: float = 0.01):
        self.watched_file = os.path.realpath(watched_file) if watched_file else None
        self._watch_dir = bool(self.watched_file and os.path.isdir(self.watched_file))
        self.emit = emit
        self.trace_above = trace_above
        self.heartbeat = time.monotonic()
        self.max_lag = 0.0
        self._loop_thread = threading.get_ident()
        self._stop = threading.Event()
        self._stall_id = 0
        self._realpaths: dict[str, str] = {}

    async def sampler(self) -> None:
        """Sleep 5 ms, record how late the wake-up was; forever (cancel to stop)."""
        self._loop_thread = threading.get_ident()
        while True:
            before = time.monotonic()
            await asyncio.sleep(SAMPLE_EVERY)
            now = time.monotonic()
            self.heartbeat = now
            lag = now - before - SAMPLE_EVERY
            self.max_lag = max(self.max_lag, lag)
            if lag > self.trace_above:
                self.emit({"kind": "lag", "t": now, "lag": lag})

    def _real(self, filename: str) -> str:
        # Cached: realpath costs a syscall per path component, and this runs every 10 ms
        # of a stall, holding the GIL the stalled loop may want.
        real = self._realpaths.get(filename)
        if real is None:
            real = self._realpaths[filename] = os.path.realpath(filename)
        return real

    def start_watchdog(self) -> threading.Thread:
        thread = threading.Thread(target=self._watch, name="loop-watchdog", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        in_stall = False
        while not self._stop.wait(STACK_EVERY):
            beat = self.heartbeat
            stalled_for = time.monotonic() - beat
            if stalled_for > STALL_AFTER:
                if not in_stall:
                    in_stall = True
                    self._stall_id += 1
                self.emit(
                    {
                        "kind": "stall_sample",
                        "stall": self._stall_id,
                        "since": beat,
                        "t": time.monotonic(),
                        **self._where(),
                    }
                )
            elif in_stall:
                in_stall = False

    def _where(self) -> dict[str, Any]:
        frame = sys._current_frames().get(self._loop_thread)
        innermost = None
        while frame is not None:
            code = frame.f_code
            if innermost is None:
                innermost = (
                    f"{os.path.basename(code.co_filename)}:{frame.f_lineno} in {code.co_name}"
                )
            if self.watched_file and self.watches(code.co_filename):
                return {
                    "line": frame.f_lineno,
                    "func": code.co_name,
                    "innermost": innermost,
                    "file": self._real(code.co_filename),
                }
            frame = frame.f_back
        return {"line": None, "func": None, "innermost": innermost}

    def watches(self, filename: str) -> bool:
        """The watched file, or (a directory watched: ``scan``) any file under it that is
        not an installed package's. Code made at run time (``<string>``, ``<frozen ...>``)
        names no file: never the app's, whatever its working directory."""
        if filename.startswith("<"):
            return False
        real = self._real(filename)
        if real == self.watched_file:
            return True
        return (
            self._watch_dir
            and real.startswith(self.watched_file + os.sep)  # type: ignore[operator]
            and not _INSTALLED & set(real.split(os.sep))
        )
