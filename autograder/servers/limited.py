"""Upstream routes that allow only so many calls in flight, mounted by ``depservers``.

Two APIs, each with its own delay and limit:

- ``GET /parts/{part}/{user}`` (fan-out): one part of a user's dashboard, after
  ``PART_DELAY``. For a user named ``outage-...`` the ``recommendations`` part fails
  fast (503 after ``FAIL_DELAY``), so the grader can see what the service does with that
  call's siblings.
- ``GET /sdk/reports/{report_id}`` (starved-health): the slow vendor API behind a
  synchronous SDK, after ``SDK_DELAY``.

A call that arrives while ``limit`` calls of its API are in flight is refused at once with
429. Each API records its peak (calls in flight at once, never above its limit), how many
calls it refused, and every call: its start and end on ``time.monotonic()`` and its
outcome: ``answered``, ``failed`` (the planned 503), ``refused`` (429), or ``abandoned``
(the caller closed the connection before the answer: the service cancelled the call).
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

PARTS = ("profile", "orders", "messages", "recommendations", "billing")
FAILING_PART = "recommendations"
OUTAGE_PREFIX = "outage-"
PART_DELAY = 0.2
PART_LIMIT = 10
FAIL_DELAY = 0.05
SDK_DELAY = 0.3
SDK_LIMIT = 40


def part_body(part: str, user: str) -> dict[str, Any]:
    """The upstream's answer for one part: deterministic, different per part and user."""
    return {"user": user, "part": part, "value": sum(f"{part}:{user}".encode()) % 997}


def dashboard_body(user: str) -> dict[str, Any]:
    """What ``GET /dashboard/{user}`` must answer: every part's JSON under its name."""
    return {"user": user, **{p: part_body(p, user) for p in PARTS}}


def report_body(report_id: int) -> dict[str, Any]:
    return {"report_id": report_id, "rows": report_id * 37 % 101}


@dataclass
class LimitedApi:
    """One API's limit and figures."""

    delay: float
    limit: int
    in_flight: int = 0
    peak: int = 0
    refused: int = 0
    calls: list[dict[str, Any]] = field(default_factory=list)

    def reset(self) -> None:
        self.peak = self.in_flight
        self.refused = 0
        self.calls = []

    def stats(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "in_flight": self.in_flight,
            "peak": self.peak,
            "refused": self.refused,
            "calls": self.calls,
        }


class LimitedRoutes:
    def __init__(self) -> None:
        self.apis = {
            "parts": LimitedApi(PART_DELAY, PART_LIMIT),
            "sdk": LimitedApi(SDK_DELAY, SDK_LIMIT),
        }

    @staticmethod
    def _split(path: str) -> list[str]:
        return [urllib.parse.unquote(p) for p in path.strip("/").split("/")]

    def owns(self, path: str) -> bool:
        return self._split(path)[0] in self.apis

    def reset(self) -> None:
        for api in self.apis.values():
            api.reset()

    def stats(self) -> dict[str, Any]:
        return {name: api.stats() for name, api in self.apis.items()}

    async def answer(
        self, method: str, path: str, reader: asyncio.StreamReader
    ) -> tuple[int, dict[str, Any]] | None:
        """The answer to send, or None when the caller hung up first (send nothing)."""
        parts = self._split(path)
        if method != "GET":
            return 404, {"detail": "Not Found"}
        if parts[0] == "parts" and len(parts) == 3 and parts[1] in PARTS:
            part, user = parts[1], parts[2]
            fails = part == FAILING_PART and user.startswith(OUTAGE_PREFIX)
            record: dict[str, Any] = {"part": part, "user": user}
            outcome = await self._call(self.apis["parts"], record, reader, fails=fails)
            if outcome == "failed":
                return 503, {"detail": f"{part} is unavailable"}
            return self._reply(outcome, part_body(part, user))
        if parts[:2] == ["sdk", "reports"] and len(parts) == 3 and parts[2].isdigit():
            outcome = await self._call(
                self.apis["sdk"], {"report_id": int(parts[2])}, reader, fails=False
            )
            return self._reply(outcome, report_body(int(parts[2])))
        return 404, {"detail": "Not Found"}

    @staticmethod
    def _reply(outcome: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        if outcome == "refused":
            return 429, {"detail": "too many calls in flight"}
        if outcome == "abandoned":
            return None
        return 200, body

    async def _call(
        self,
        api: LimitedApi,
        record: dict[str, Any],
        reader: asyncio.StreamReader,
        *,
        fails: bool,
    ) -> str:
        record["start"] = time.monotonic()
        api.calls.append(record)
        if api.in_flight >= api.limit:
            api.refused += 1
            record.update(end=record["start"], outcome="refused")
            return "refused"
        api.in_flight += 1
        api.peak = max(api.peak, api.in_flight)
        # HTTP/1.1 clients send nothing more until they have the answer: anything the
        # connection yields now is its end, i.e. the caller gave up on this call.
        hung_up = asyncio.ensure_future(reader.read(1))
        wait = asyncio.ensure_future(asyncio.sleep(FAIL_DELAY if fails else api.delay))
        try:
            await asyncio.wait({hung_up, wait}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            api.in_flight -= 1
            record["end"] = time.monotonic()
            record["outcome"] = ("failed" if fails else "answered") if wait.done() else "abandoned"
            for task in (hung_up, wait):
                task.cancel()
            # Settled before the connection reads its next request (one reader at a time);
            # a reset connection's error is retrieved here, not logged as lost.
            await asyncio.gather(hung_up, wait, return_exceptions=True)
        return str(record["outcome"])
