"""A loop-lag watch for production: a pure ASGI middleware, no dependency, any ASGI app.

It starts one background task with the app (on the lifespan ``startup``) that sleeps
50 ms at a time and notes how late it wakes up. A wake-up late by more than
``threshold`` means the event loop was busy with something else all that time: it logs
a WARNING with the lateness and the routes of the requests that ran during the late
window (a blocking handler usually finishes inside the stall, so "in flight when the
watch wakes up" would miss it). That narrows the search to a few endpoints; it says
*that* the loop stalled, not *which line* stalled it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import Counter, deque
from typing import Any

log = logging.getLogger("looplag")


class LoopLagMiddleware:
    def __init__(self, app: Any, threshold: float = 0.1, every: float = 0.05) -> None:
        self.app = app
        self.threshold = threshold
        self.every = every
        self.running: dict[int, str] = {}
        self.finished: deque[tuple[str, float]] = deque(maxlen=1000)  # (route, ended at)
        self._ids = itertools.count()
        self._watch_task: asyncio.Task[None] | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            self._watch_task = asyncio.create_task(self._watch())
            try:
                await self.app(scope, receive, send)
            finally:
                self._watch_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._watch_task
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        key = next(self._ids)
        self.running[key] = f"{scope['method']} {scope['path']}"
        try:
            await self.app(scope, receive, send)
        finally:
            del self.running[key]
            # The router has put the matched route in the scope by now: group by template.
            route = getattr(scope.get("route"), "path", scope["path"])
            self.finished.append((f"{scope['method']} {route}", asyncio.get_running_loop().time()))

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.every)
            late = loop.time() - before - self.every
            if late > self.threshold:
                during = [r for r, ended in self.finished if ended >= before]
                busy = Counter([*during, *self.running.values()]).most_common(3)
                log.warning(
                    "event loop late by %.0f ms; requests that ran meanwhile: %s",
                    late * 1000,
                    ", ".join(f"{what} (x{n})" for what, n in busy) or "nothing",
                )
