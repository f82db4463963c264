"""Notebook 09's stream helpers without a server (``course/_streams.py``): the two ways the
installed Starlette notices a disconnect, driven as an ASGI server drives a
``StreamingResponse``, and the relays' table."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import ROOT


@pytest.fixture
def streams(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "course"))
    import _streams

    return _streams


def test_below_asgi_2_4_the_listener_cancels_the_generator_at_once(streams):
    seen = asyncio.run(streams.noticed("2.3", leave_at=0.05, token_every=0.3))
    assert seen["generator_ended_by"] == "CancelledError" and seen["generator_ended_after_s"] < 0.2
    assert seen["raised"] is None and seen["received"] == ["http.request", "http.disconnect"]


def test_at_asgi_2_4_only_the_first_failed_send_notices(streams):
    seen = asyncio.run(streams.noticed("2.4", leave_at=0.05, token_every=0.3))
    assert seen["raised"] == "ClientDisconnect" and seen["response_returned_after_s"] >= 0.3
    assert seen["received"] == [] and seen["generator_ended_by"] is None


def test_the_relays_table_says_what_ended_each_generator(streams):
    rows = [{"wasted": 75, "model_tokens": 80}] * 2
    runs = {"sync": {"rows": rows, "wasted_mean": 75.0, "wasted_max": 75, "closed_after_ms": [None, None],
                     "read_to_the_end": 2, "ended_by": {None: 2}}}
    table = streams.relays_table(runs, {"sync": "def generator"})
    assert "| def generator | 75.0 (at most 75) | never: the model wrote its whole answer | 2 of 2 |" in table
    assert "nothing yet (suspended at its yield) ×2" in table
