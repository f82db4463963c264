"""What a predict drill reads at an upstream: figures the dependency servers recorded.

The same role as :mod:`autograder.drills.measures` (each function builds a drill's
``measure`` from a served snippet), for the drills whose figure only the upstream can
give: the hanging connections it still holds open (``slowupstreams``), the calls it
refused with 429 and the calls it still answered after a sibling failed
(``limited_upstream``). Nothing here is read from inside the app.
"""

from __future__ import annotations

import time
from typing import Any

from autograder.drills.measures import Measure, Measurement, poll, timing_notes
from autograder.lab import LabApp
from autograder.servers.limited import OUTAGE_PREFIX
from autograder.servers.slow import quote_hangs


def hanging_left_open(n: int, watch_after: float) -> Measure:
    """``n`` quotes that hang upstream, at once; then, ``watch_after`` seconds after the
    last answer, how many of their connections the upstream still holds open."""

    def measure(app: LabApp) -> Measurement:
        secret = app.stats()["slow"]["secret"]
        symbols = [s for s in (f"H{i}" for i in range(1000)) if quote_hangs(secret, s)][:n]
        app.reset_stats()
        b = app.burst("GET", [f"/quote/{s}" for s in symbols], give_up_after=5.0)
        time.sleep(watch_after)
        hangs = app.stats()["slow"]["quotes"]["hangs"]
        still_open = sum(1 for h in hangs if h["closed"] is None)
        notes = {
            "hanging connections the upstream saw": str(len(hangs)),
            "still open": f"{still_open}, {watch_after:.0f} s after the last answer",
            **timing_notes(b),
        }
        return Measurement(float(still_open), b, notes)

    return measure


def _parts(app: LabApp) -> dict[str, Any]:
    return dict(app.stats()["limited"]["parts"])


def _quiet(app: LabApp) -> None:
    """Wait until no call is in flight at the parts API: gather leaves calls running after
    a dashboard has answered, and they must not count against the next measurement."""
    poll(lambda: _parts(app)["in_flight"] == 0, 2.0)


def refused_calls(dashboards: int) -> Measure:
    """``dashboards`` dashboards at once; the calls the parts API refused with 429."""

    def measure(app: LabApp) -> Measurement:
        _quiet(app)
        app.request("GET", "/dashboard/warmup")
        app.reset_stats()
        b = app.burst("GET", [f"/dashboard/user{i}" for i in range(dashboards)], probe="loop")
        parts = _parts(app)
        notes = {
            "calls refused with 429": str(parts["refused"]),
            "upstream peak in flight": str(parts["peak"]),
            **timing_notes(b),
        }
        return Measurement(float(parts["refused"]), b, notes)

    return measure


def siblings_left_running(app: LabApp) -> Measurement:
    """One dashboard whose failing part fails; how many sibling calls the upstream still
    answered after that failure (instead of seeing them closed)."""
    _quiet(app)
    app.request("GET", "/dashboard/warmup")
    app.reset_stats()
    user = f"{OUTAGE_PREFIX}1"
    b = app.burst("GET", f"/dashboard/{user}", 1)

    def mine() -> list[dict[str, Any]]:
        return [c for c in _parts(app)["calls"] if c["user"] == user]

    # each sibling ends at the upstream (answered, or closed by the app) by 0.2 s
    poll(lambda: bool(mine()) and all("end" in c for c in mine()), 2.0)
    calls = mine()
    failed_at = min((c["end"] for c in calls if c.get("outcome") == "failed"), default=0.0)
    left = [c for c in calls if c.get("outcome") == "answered" and c["end"] > failed_at]
    notes = {
        "calls at the upstream": ", ".join(f"{c['part']}: {c.get('outcome')}" for c in calls),
        **timing_notes(b),
    }
    return Measurement(float(len(left)), b, notes)
