"""Two more upstream behaviours, mounted by the dependency servers' HTTP upstream.

- ``GET /rows/{report}[?after=CURSOR]`` (the ``streaming`` exercise): a paginated row
  source. Each call answers after ``ROW_DELAY`` with one row and the cursor of the next
  (``null`` after the last), so a report's rows can only be read one after another: the
  source's pace is one row every ``ROW_DELAY``.
- ``GET /quote/{symbol}`` (the ``timeouts`` exercise): answers after ``QUOTE_DELAY`` with
  a price, except for about half the symbols, where it never answers: it holds the
  connection open until the caller closes it, and records when that happened.

Rows, cursors, prices and which symbols hang all derive from a secret drawn when the
process starts (the grader reads it from ``stats``): a submission cannot produce them
without asking the upstream, nor know in advance which quote will hang.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
import urllib.parse
from typing import Any

ROW_DELAY = 0.05
ROWS_PER_REPORT = 10
QUOTE_DELAY = 0.05


def _digest(secret: str, *parts: object) -> bytes:
    return hashlib.sha256("\x00".join([secret, *map(str, parts)]).encode()).digest()


def row_text(secret: str, report: str, index: int) -> str:
    return f"{report},{index},{_digest(secret, 'row', report, index).hex()[:12]}"


def row_cursor(secret: str, report: str, index: int) -> str:
    """The opaque cursor that asks for row ``index`` (1..ROWS_PER_REPORT-1)."""
    return f"{index}.{_digest(secret, 'cursor', report, index).hex()[:8]}"


def export_body(secret: str, report: str) -> str:
    """What ``/export/{report}`` must stream: every row, in order, one per line."""
    return "".join(row_text(secret, report, i) + "\n" for i in range(ROWS_PER_REPORT))


def quote_hangs(secret: str, symbol: str) -> bool:
    return _digest(secret, "hang", symbol)[0] % 2 == 0


def quote_body(secret: str, symbol: str) -> dict[str, Any]:
    cents = int.from_bytes(_digest(secret, "price", symbol)[:3], "big") % 100_000 + 100
    return {"symbol": symbol, "price": cents / 100}


class SlowUpstreams:
    """The routes above, their figures, and the secret they derive from."""

    PREFIXES = ("rows", "quote")

    def __init__(self) -> None:
        self.secret = secrets.token_hex(8)
        self.rows_in_flight = 0
        self.rows_peak = 0
        self.row_calls: list[dict[str, Any]] = []
        self.hangs: list[dict[str, Any]] = []  # one per connection held open
        self.quotes_answered = 0

    def handles(self, path: str) -> bool:
        return path.strip("/").split("/", 1)[0] in self.PREFIXES

    def reset(self) -> None:
        self.rows_peak = self.rows_in_flight
        self.row_calls = []
        self.hangs = []
        self.quotes_answered = 0

    def stats(self) -> dict[str, Any]:
        return {
            "secret": self.secret,
            "rows": {"peak": self.rows_peak, "calls": self.row_calls},
            "quotes": {"answered": self.quotes_answered, "hangs": self.hangs},
        }

    async def answer(
        self, method: str, url: urllib.parse.SplitResult, reader: asyncio.StreamReader
    ) -> tuple[int, dict[str, Any]] | None:
        """The status and JSON body; None when the caller closed a connection left hanging."""
        parts = [urllib.parse.unquote(p) for p in url.path.strip("/").split("/")]
        if method != "GET" or len(parts) != 2 or not parts[1]:
            return 404, {"detail": "Not Found"}
        if parts[0] == "rows":
            return await self._row(parts[1], urllib.parse.parse_qs(url.query).get("after"))
        return await self._quote(parts[1], reader)

    async def _row(self, report: str, after: list[str] | None) -> tuple[int, dict[str, Any]]:
        index = 0
        if after:
            index = int(after[0].split(".", 1)[0]) if after[0].split(".", 1)[0].isdigit() else -1
            if not 0 < index < ROWS_PER_REPORT or after[0] != row_cursor(
                self.secret, report, index
            ):
                return 400, {"detail": "unknown cursor"}
        record = {"report": report, "index": index, "start": time.monotonic(), "end": None}
        self.row_calls.append(record)
        self.rows_in_flight += 1
        self.rows_peak = max(self.rows_peak, self.rows_in_flight)
        try:
            await asyncio.sleep(ROW_DELAY)
        finally:
            self.rows_in_flight -= 1
            record["end"] = time.monotonic()
        last = index == ROWS_PER_REPORT - 1
        return 200, {
            "row": row_text(self.secret, report, index),
            "next": None if last else row_cursor(self.secret, report, index + 1),
        }

    async def _quote(
        self, symbol: str, reader: asyncio.StreamReader
    ) -> tuple[int, dict[str, Any]] | None:
        if not quote_hangs(self.secret, symbol):
            await asyncio.sleep(QUOTE_DELAY)
            self.quotes_answered += 1
            return 200, quote_body(self.secret, symbol)
        record = {"symbol": symbol, "opened": time.monotonic(), "closed": None}
        self.hangs.append(record)
        try:  # never answer; whatever else the caller sends is read and ignored
            while await reader.read(65536):
                pass
        except ConnectionError:
            pass
        finally:
            record["closed"] = time.monotonic()
        return None
