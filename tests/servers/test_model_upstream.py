"""The model API that streams tokens (token-stream), and the token-stream judge's own checks.

The upstream runs in-process on loopback with short delays; nothing here asserts a
duration, only what the model recorded and what the checks conclude.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from autograder.judges import token_stream
from autograder.servers import model
from autograder.servers.model import LONG_SUFFIX, LONG_TOKENS, TOKENS, answer_events
from tests.servers.test_limited_upstream import Serving, until


@pytest.fixture(autouse=True)
def quick_model(monkeypatch):
    monkeypatch.setattr(model, "FIRST_DELAY", 0.01)
    monkeypatch.setattr(model, "TOKEN_DELAY", 0.002)


def events(lines: list[str]) -> list[object]:
    return [json.loads(x.removeprefix("data: ")) for x in lines if x.startswith("data: {")]


def test_a_stream_read_to_the_end_carries_every_token_and_is_recorded_completed():
    async def scenario():
        serving = Serving(delay=0.01)
        async with serving as url:
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                got = {}
                for prompt in ("p1", "p2" + LONG_SUFFIX):
                    async with client.stream("GET", "/v1/stream", params={"prompt": prompt}) as r:
                        assert r.headers["content-type"] == "text/event-stream"
                        got[prompt] = [line async for line in r.aiter_lines()]
        return got, serving.upstream.model.stats()

    got, stats = asyncio.run(scenario())
    secret = stats["secret"]
    assert events(got["p1"]) == answer_events(secret, "p1") and len(got["p1"]) >= TOKENS
    assert len(events(got["p2-long"])) == LONG_TOKENS
    assert "data: [DONE]" in got["p1"]
    records = {s["prompt"]: s for s in stats["streams"]}
    assert records["p1"]["outcome"] == "completed" and records["p1"]["closed"] is None
    assert len(records["p1"]["token_times"]) == TOKENS


def test_a_caller_that_hangs_up_is_recorded_abandoned_and_the_model_stops():
    async def scenario():
        serving = Serving(delay=0.01)
        async with serving as url:
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                async with client.stream(
                    "GET", "/v1/stream", params={"prompt": "q" + LONG_SUFFIX}
                ) as r:
                    seen = 0
                    async for line in r.aiter_lines():
                        seen += line.startswith("data: {")
                        if seen == 3:
                            break
            streams = serving.upstream.model.streams
            await until(lambda: all(s["outcome"] for s in streams))
        return serving.upstream.model.stats()

    record = asyncio.run(scenario())["streams"][0]
    assert record["outcome"] == "abandoned" and record["closed"] is not None
    assert 3 <= len(record["token_times"]) < LONG_TOKENS


def row(**kw):
    base = {
        "id": "l0",
        "leaver": True,
        "left_ms": 600.0,
        "upstream_closed_ms": 610.0,
        "wasted_tokens": 0,
        "end_ms": None,
        "tokens": 5,
    }
    return base | kw


def test_upstream_closed_fails_a_late_or_missing_close_and_reports_wasted_tokens():
    ok = token_stream.closed_check([row(), row(id="l1", upstream_closed_ms=1500.0)])
    assert ok.passed
    late = token_stream.closed_check(
        [row(), row(id="l1", upstream_closed_ms=1700.0, wasted_tokens=12)]
    )
    assert not late.passed and "12 tokens" in late.message
    never = token_stream.closed_check([row(upstream_closed_ms=None, wasted_tokens=40)])
    assert not never.passed and "1 still open" in never.message
    assert not token_stream.closed_check([row(left_ms=None)]).passed  # nobody left: not measured


def test_threads_released_needs_every_probe_in_one_wave():
    assert token_stream.released_check([0.26, 0.3, 0.29]).passed
    assert not token_stream.released_check([0.26, 0.52]).passed
    assert not token_stream.released_check([0.26, None]).passed
    assert not token_stream.released_check([]).passed


def test_the_feedback_draws_one_line_per_stream():
    from autograder.classroom import feedback
    from autograder.judges.checks import Check
    from autograder.judges.verdict import Verdict

    streams = [
        row(),
        row(id="l1", upstream_closed_ms=None),
        row(
            id="s0",
            leaver=False,
            left_ms=None,
            upstream_closed_ms=None,
            end_ms=1100.0,
            first_token_ms=520.0,
            token_ms=[520, 545, 570],
        ),
    ]
    bars = [{"start_ms": 0.0, "end_ms": 1100.0, "status": 200}]
    verdict = Verdict(
        "token-stream",
        (Check("tokens", True, "ok"),),
        metrics={"timeline": bars, "streams": streams, "waited_ms": 2000.0},
    )
    png = feedback.timeline_png(verdict)
    assert png is not None and png.startswith(b"\x89PNG")
    assert "one line per stream" in feedback.timeline_caption(verdict)
