"""The rate-limited upstream APIs (fan-out, starved-health) and the checks that read them.

The upstream runs in-process on loopback with a long delay, so that every call of a test
is in flight at once however busy the machine is; nothing here asserts a duration.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from autograder.judges import checks, fan_out, starved_health
from autograder.measure.load import Request, Response
from autograder.measure.session import Figures
from autograder.servers.limited import PARTS, dashboard_body, part_body, report_body
from autograder.servers.process import Upstream


class Serving:
    """The upstream on a loopback port; on exit, waits for its connections to end (closed by
    the client) before closing the server, so no handler is cancelled mid-read."""

    def __init__(self, delay: float) -> None:
        self.upstream = Upstream()
        for api in self.upstream.limited.apis.values():
            api.delay = delay
        self.handlers: set[asyncio.Task] = set()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            await self.upstream.handle(reader, writer)
        finally:
            self.handlers.discard(task)

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc: object) -> None:
        await until(lambda: not self.handlers)
        self.server.close()
        await self.server.wait_closed()


async def until(condition, wait_at_most: float = 5.0) -> None:
    """Poll the upstream's own records (in this process) until ``condition`` holds."""
    async with asyncio.timeout(wait_at_most):
        while True:
            if condition():
                return
            await asyncio.sleep(0.01)


def test_calls_beyond_the_limit_are_refused_with_429_and_counted():
    async def scenario():
        serving = Serving(delay=1.0)
        async with serving as url:
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                got = await asyncio.gather(*(client.get(f"/parts/orders/u{i}") for i in range(13)))
                sdk = await client.get("/sdk/reports/7")
        return [r.status_code for r in got], sdk, serving.upstream.limited.stats()

    statuses, sdk, stats = asyncio.run(scenario())
    assert sorted(statuses) == [200] * 10 + [429] * 3
    assert stats["parts"]["peak"] == 10 and stats["parts"]["refused"] == 3
    outcomes = [c["outcome"] for c in stats["parts"]["calls"]]
    assert outcomes.count("answered") == 10 and outcomes.count("refused") == 3
    assert sdk.status_code == 200 and sdk.json() == report_body(7)
    assert stats["sdk"]["peak"] == 1 and stats["sdk"]["refused"] == 0


def test_an_outage_user_fails_one_part_and_a_hang_up_is_recorded_as_abandoned():
    async def scenario():
        serving = Serving(delay=5.0)
        async with serving as url:
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                sibling = asyncio.create_task(client.get("/parts/profile/outage-1"))
                failing = await client.get("/parts/recommendations/outage-1")
                calls = serving.upstream.limited.apis["parts"].calls
                await until(lambda: len(calls) == 2)
                sibling.cancel()  # httpx closes the connection of a cancelled request
                await asyncio.gather(sibling, return_exceptions=True)
                await until(lambda: all("outcome" in c for c in calls))
                healthy = await client.get("/parts/recommendations/alice")
        return failing, healthy, serving.upstream.limited.stats()["parts"]

    failing, healthy, stats = asyncio.run(scenario())
    assert failing.status_code == 503
    assert healthy.status_code == 200 and healthy.json() == part_body("recommendations", "alice")
    by_part = {(c["part"], c["user"]): c["outcome"] for c in stats["calls"]}
    assert by_part[("profile", "outage-1")] == "abandoned"
    assert by_part[("recommendations", "outage-1")] == "failed"
    assert stats["refused"] == 0


def test_dashboard_body_holds_every_part_under_its_name():
    body = dashboard_body("bob")
    assert set(body) == {"user", *PARTS} and body["billing"] == part_body("billing", "bob")
    assert part_body("billing", "bob") != part_body("billing", "ann")


def call(part: str, start: float, end: float | None, outcome: str | None) -> dict:
    record = {"part": part, "user": "outage-7", "start": start}
    if end is not None:
        record.update(end=end, outcome=outcome)
    return record


@pytest.mark.parametrize(
    ("calls", "passed", "words"),
    [
        # a TaskGroup: the siblings are closed just after the failure
        (
            [call("recommendations", 0, 0.05, "failed")]
            + [call(p, 0, 0.051, "abandoned") for p in ("profile", "orders")],
            True,
            "all 2 sibling calls",
        ),
        # gather without cancelling: the siblings run to their answer
        (
            [call("recommendations", 0, 0.05, "failed"), call("profile", 0, 0.2, "answered")],
            False,
            "went on serving 1 call",
        ),
        # still running when the grader looked
        (
            [call("recommendations", 0, 0.05, "failed"), call("profile", 0, None, None)],
            False,
            "went on serving 1 call",
        ),
        # one after another: nothing was in flight beside the failing call
        (
            [call("profile", 0, 0.2, "answered"), call("recommendations", 0.2, 0.25, "failed")],
            True,
            "no other call",
        ),
        # a refusal after the failure is no work left running
        (
            [call("recommendations", 0, 0.05, "failed"), call("billing", 0.06, 0.06, "refused")],
            True,
            "no other call",
        ),
        ([call("profile", 0, 0.2, "answered")], False, "not measured"),
    ],
)
def test_siblings_cancelled(calls, passed, words):
    c = checks.siblings_cancelled("siblings-cancelled", calls, what="recommendations")
    assert c.passed is passed and words in c.message


def test_at_most():
    assert checks.at_most("x", 0, 0, message="{value} of {maximum}").passed
    c = checks.at_most("x", 40, 0, message="refused {value} (at most {maximum})")
    assert not c.passed and c.message == "refused 40 (at most 0)"


def answered(path: str, status: int, body: bytes, start: float = 0.0, end: float = 0.2):
    return Response(Request("GET", path), start=start, end=end, status=status, body=body)


def dashboard(user: str, status: int = 200, end: float = 0.2) -> Response:
    body = json.dumps(dashboard_body(user)).encode() if status == 200 else b"{}"
    return answered(f"/dashboard/{user}", status, body, end=end)


def fan_out_figures(*, failing_status: int, refused: int = 0, solo_end: float = 0.21) -> Figures:
    failing = [call("recommendations", 0, 0.05, "failed"), call("orders", 0, 0.06, "abandoned")]
    return Figures(
        requests=tuple(dashboard(f"user{i}", end=1.0) for i in range(fan_out.N)),
        waited=1.6,
        extra={
            "upstream_peak_in_flight": 10,
            "upstream_refused_429": refused,
            "_solo": [dashboard("solo", end=solo_end)],
            "_pair": [dashboard(fan_out.FAILING_USER, failing_status), dashboard("bystander")],
            "_failing_calls": failing,
        },
    )


def test_fan_out_judge_passes_good_figures_and_names_each_failure():
    good = {c.name: c for c in fan_out.judge(fan_out_figures(failing_status=502))}
    assert list(good) == list(fan_out.EXERCISE.checks) and all(c.passed for c in good.values())
    partial = {c.name: c for c in fan_out.judge(fan_out_figures(failing_status=200))}
    assert not partial["responses"].passed and "answered 200" in partial["responses"].message
    refused = {c.name: c for c in fan_out.judge(fan_out_figures(failing_status=502, refused=4))}
    assert not refused["upstream-limit"].passed and "refused 4" in refused["upstream-limit"].message
    slow = {c.name: c for c in fan_out.judge(fan_out_figures(failing_status=502, solo_end=1.0))}
    assert not slow["fans-out"].passed
    hung = fan_out_figures(failing_status=502)
    hung.extra["_pair"][0].end = None  # the failing dashboard never answered
    unanswered = {c.name: c for c in fan_out.judge(hung)}["responses"]
    assert not unanswered.passed and "no answer" in unanswered.message


def test_starved_health_judge_reads_the_probes_from_outside():
    reports = tuple(
        answered(f"/reports/{i}", 200, httpx.Response(200, json=report_body(i)).content, end=0.95)
        for i in range(1, starved_health.N + 1)
    )

    def figures(health_ms: float, refused: int = 0, wrong_body: int = 0) -> Figures:
        return Figures(
            requests=reports,
            waited=1.6,
            extra={
                "health_latencies_ms": [health_ms] * 45,
                "health_errors": 0,
                "download_latencies_ms": [30.0] * 45,
                "download_errors": 0,
                "download_wrong_body": wrong_body,
                "upstream_peak_in_flight": 40,
                "upstream_refused_429": refused,
            },
        )

    good = {c.name: c for c in starved_health.judge(figures(15.0))}
    assert list(good) == list(starved_health.EXERCISE.checks)
    assert all(c.passed for c in good.values()), good
    starved = {c.name: c for c in starved_health.judge(figures(640.0))}
    assert not starved["health-fast"].passed and "640 ms" in starved["health-fast"].message
    assert not {c.name: c for c in starved_health.judge(figures(15.0, refused=60))}[
        "sdk-limit"
    ].passed
    assert not {c.name: c for c in starved_health.judge(figures(15.0, wrong_body=3))}[
        "downloads-fast"
    ].passed
