"""What the streaming drills measure: Server-Sent Event streams opened at once, read by
the grader's SSE client, and the model API's own record of each stream.

``open_streams`` is shared by the predict drills (through :func:`autograder.lab.run`) and
the spot-and-fix drill ``fix-relay-never-closes`` (on its :class:`Session`): it opens the
streams together, notes when each token event reached the client, lets some clients leave
(a FIN, as a closed browser tab) after a few tokens, then waits (bounded) until the model
API (``servers/model.py``, outside the app) has an outcome for every stream that was left.
A token is *wasted* when the model wrote it after its client had left.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from autograder.drills.measures import Measure, Measurement
from autograder.judges.token_stream import model_outcomes, token_of
from autograder.lab import LabApp, run
from autograder.measure.load import Request, Response
from autograder.measure.session import Session
from autograder.measure.streams import Stream as Seen
from autograder.measure.streams import read_sse
from autograder.servers.model import FIRST_DELAY, LONG_SUFFIX


@dataclass
class Stream:
    """One client's stream: what it received, and what the model API recorded for it."""

    prompt: str
    leave_after: int | None
    record: Response
    tokens: list[Any] = field(default_factory=list)
    token_times: list[float] = field(default_factory=list)
    left: float | None = None
    model: dict[str, Any] | None = None  # the model API's record (opened, token_times, closed)

    @property
    def first_token(self) -> float | None:
        """Seconds from opening the stream to its first token event (None: no token)."""
        return self.token_times[0] - self.record.start if self.token_times else None

    @property
    def ended(self) -> bool:
        return self.left is None and self.record.done

    @property
    def wasted(self) -> int | None:
        """Tokens the model wrote after this client left (None: it did not leave)."""
        if self.left is None or self.model is None:
            return None
        return sum(1 for t in self.model["token_times"] if t > self.left)


async def open_streams(
    s: Session,
    path: str,
    n: int,
    *,
    leavers: int = 0,
    leave_after: int = 5,
    wait: float = 3.0,
    close_wait: float = 3.0,
) -> list[Stream]:
    """``n`` streams at once at ``path/<i>?prompt=...``; the first ``leavers`` ask for long
    answers and leave after ``leave_after`` tokens. Waits at most ``wait`` s for the streams,
    then at most ``close_wait`` s after the last client left for the model's outcomes."""
    tag = uuid.uuid4().hex[:6]
    start = time.monotonic()
    streams = []
    for i in range(n):
        leaver = i < leavers
        prompt = f"{tag}-{i}" + (LONG_SUFFIX if leaver else "")
        request = Request("GET", f"{path}/{i}?prompt={prompt}")
        streams.append(Stream(prompt, leave_after if leaver else None, Response(request, start)))
    await asyncio.gather(*(_read(s.port, st, start + wait) for st in streams))

    lefts = [st.left for st in streams if st.left is not None]
    seen = await model_outcomes(
        s, [st.prompt for st in streams if st.left], after=max(lefts, default=0.0), wait=close_wait
    )
    for st in streams:
        st.model = seen.get(st.prompt)
    return streams


async def _read(port: int, st: Stream, deadline: float) -> None:
    seen = Seen(messages=st.tokens, times=st.token_times)
    await read_sse(port, st.record, seen, token_of, leave_after=st.leave_after, deadline=deadline)
    st.left = seen.left


def _s(x: float | None) -> str:
    return "none" if x is None else f"{x:.2f} s"


def threads_held(path: str, n: int, figure: str = "held") -> Measure:
    """``n`` streams at once; ``held``: how many the model API had opened before it wrote
    its first token (each one a worker thread waiting); ``last-first``: the seconds until
    the last stream's first token."""

    def measure(app: LabApp) -> Measurement:
        app.request("GET", "/health")
        app.reset_stats()
        streams = run(open_streams(app.session, path, n), 30)
        opened = sorted(st.model["opened"] for st in streams if st.model)
        firsts = [t for st in streams if st.model for t in st.model["token_times"][:1]]
        before = sum(1 for t in opened if firsts and t < min(firsts))
        arrivals = sorted(x for st in streams if (x := st.first_token) is not None)
        notes = {
            "streams opened at the model before its first token": str(before),
            "streams the model saw in all": str(len(opened)),
            "first token: fastest / slowest stream": f"{_s(arrivals[0] if arrivals else None)}"
            f" / {_s(arrivals[-1] if len(arrivals) == n else None)}",
            "streams that ended": f"{sum(1 for st in streams if st.ended)} of {n}",
        }
        value = (
            float(before)
            if figure == "held"
            else (arrivals[-1] if len(arrivals) == n else float("inf"))
        )
        return Measurement(value, None, notes)

    return measure


def tokens_wasted(path: str, leavers: int, leave_after: int) -> Measure:
    """``leavers`` clients at once ask for a long answer and leave after ``leave_after``
    tokens; the most tokens the model wrote for one of them after it had left."""

    def measure(app: LabApp) -> Measurement:
        app.request("GET", "/health")
        app.reset_stats()
        streams = run(
            open_streams(app.session, path, leavers, leavers=leavers, leave_after=leave_after),
            30,
        )
        wasted = [w for st in streams if (w := st.wasted) is not None]
        closes = [
            st.model["closed"] - st.left
            for st in streams
            if st.model and st.left and st.model["closed"]
        ]
        notes = {
            "clients that left": f"{len(wasted)} of {leavers}",
            "tokens wasted per client": ", ".join(map(str, wasted)) or "none",
            "model streams closed by the app": f"{len(closes)} of {leavers}"
            + (f" (slowest {max(closes) * 1000:.0f} ms after the client left)" if closes else ""),
            "model streams written to their end": str(
                sum(1 for st in streams if st.model and st.model["outcome"] == "completed")
            ),
        }
        value = float(max(wasted)) if len(wasted) == leavers else float("nan")
        return Measurement(value, None, notes)

    return measure


__all__ = ["FIRST_DELAY", "Stream", "open_streams", "threads_held", "tokens_wasted"]
