"""The spot-and-fix drill on a relay that never closes its upstream: its scenario and judge.

The same shape as :mod:`autograder.drills.fix_scenarios`, with the ``token-stream``
exercise's model API, SSE client and checks (``tokens``, ``upstream-closed``, its
``CLOSE_LIMIT``), on fewer streams: ``STAYERS`` read their answer to the end while
``LEAVERS`` ask for long answers and leave after ``LEAVE_AFTER`` tokens; the loop is
probed from the warm-up to the last stream. Every deciding figure is read at the client
or at the model API (:mod:`autograder.drills.measures_stream`).
"""

from __future__ import annotations

from typing import Any

from autograder.drills.fix_scenarios import LAG_LIMIT
from autograder.drills.measures_stream import open_streams
from autograder.judges import checks
from autograder.judges import token_stream as ts
from autograder.judges.checks import Check
from autograder.measure.load import Request
from autograder.measure.session import Figures, Session
from autograder.servers.model import LONG_TOKENS, TOKENS

STAYERS = 4
LEAVERS = 4
LEAVE_AFTER = ts.LEAVE_AFTER
STREAM_WAIT = ts.STREAM_WAIT
CLOSE_LIMIT = ts.CLOSE_LIMIT
CLOSE_WAIT = ts.CLOSE_WAIT


def _ms(x: float | None) -> float | None:
    return None if x is None else round(x * 1000, 1)


async def measure_relay(s: Session) -> Figures:
    secret = (await s.deps_stats())["model"]["secret"]
    s.start_loop_probe()
    alone = await s.send(Request("GET", "/health"), wait_at_most=5)
    await s.reset_deps()
    streams = await open_streams(
        s,
        "/chat",
        STAYERS + LEAVERS,
        leavers=LEAVERS,
        leave_after=LEAVE_AFTER,
        wait=STREAM_WAIT,
        close_wait=CLOSE_WAIT,
    )
    loop = await s.stop_loop_probe()
    start = min(st.record.start for st in streams)
    rows: list[dict[str, Any]] = []
    for i, st in enumerate(streams):
        up, left = st.model, st.left
        closed = up["closed"] if up else None
        rows.append(
            {
                "id": str(i),
                "leaver": st.leave_after is not None,
                "first_token_ms": _ms(st.first_token),
                "tokens": len(st.tokens),
                "end_ms": _ms(st.record.end - start) if st.ended and st.record.end else None,
                "left_ms": _ms(left - start) if left else None,
                "upstream_closed_ms": _ms(closed - start) if closed else None,
                "wasted_tokens": st.wasted,
            }
        )
    return s.figures(
        requests=[st.record for st in streams],
        waited=STREAM_WAIT,
        loop=loop,
        alone=alone,
        extra={
            "streams": rows,
            "wasted_tokens_max": max(
                (w for st in streams if (w := st.wasted) is not None), default=None
            ),
            "_secret": secret,
            "_prompts": {str(i): st.prompt for i, st in enumerate(streams)},
            "_tokens": {str(i): st.tokens for i, st in enumerate(streams)},
        },
    )


def judge_relay(f: Figures) -> list[Check]:
    rows = f.extra.get("streams", [])
    return [
        ts.tokens_check(
            [r for r in rows if not r["leaver"]],
            f.extra.get("_tokens", {}),
            f.extra.get("_prompts", {}),
            f.extra.get("_secret", ""),
        ),
        ts.closed_check([r for r in rows if r["leaver"]]),
        checks.loop_lag_under("loop-free", f.loop_lag, LAG_LIMIT, probes=f.probes),
    ]


RELAY_SUMMARY = (
    f"{STAYERS + LEAVERS} GET /chat/{{id}}?prompt=P at once: {STAYERS} read their answer "
    f"({TOKENS} tokens) to the end and get exactly the model's tokens, {LEAVERS} ask for "
    f"{LONG_TOKENS} and leave after {LEAVE_AFTER}: each of their model streams closed within "
    f"{CLOSE_LIMIT * 1000:.0f} ms of leaving; the loop never blocked over "
    f"{LAG_LIMIT * 1000:.0f} ms"
)
