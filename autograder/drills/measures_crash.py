"""What a crash drill measures: how many accepted jobs a service still finishes when it is
killed mid-work and started again.

The snippet serves restartable (:func:`autograder.lab.serve` with ``restartable=True``: a
``JOBS_DIR`` that survives the kill). The drill sends a batch of orders, sends SIGKILL to
the service's process group a fixed time after the first order (as a crash or the OOM
killer would), starts the same file again, and counts at the SMTP server (outside the
service) the orders whose email arrived, and those that arrived twice.
"""

from __future__ import annotations

import signal
import time

from autograder.drills.measures import Measure, Measurement, poll
from autograder.lab import LabApp


def _delivered(app: LabApp, ids: list[str]) -> dict[str, int]:
    """Order id -> emails the SMTP server accepted for it."""
    subjects = [m["subject"] for m in app.stats()["smtp"]["messages"]]
    return {i: sum(1 for s in subjects if s == f"Order {i} confirmed") for i in ids}


def delivered_after_crash(n: int, kill_after: float, recover_within: float = 4.0) -> Measure:
    """``n`` orders at once; SIGKILL ``kill_after`` s after they were sent; start again; the
    orders whose email arrived (before the kill or within ``recover_within`` s after)."""

    def measure(app: LabApp) -> Measurement:
        app.request("POST", "/orders/warmup")
        poll(lambda: _delivered(app, ["warmup"])["warmup"] > 0, 5.0)  # first-send costs
        app.reset_stats()
        ids = [f"o{i}" for i in range(n)]
        t0 = time.monotonic()
        b = app.burst("POST", [f"/orders/{i}" for i in ids])
        if (left := t0 + kill_after - time.monotonic()) > 0:
            time.sleep(left)  # the moment of the crash is the drill's question, not a wait
        before = sum(1 for c in _delivered(app, ids).values() if c)
        in_flight = len(app.stats()["smtp"]["in_flight"])
        app.kill(signal.SIGKILL)
        app.start_again()
        restarted = time.monotonic()
        all_there = poll(lambda: all(_delivered(app, ids).values()), recover_within)
        counts = _delivered(app, ids)
        delivered = sum(1 for c in counts.values() if c)
        notes = {
            "accepted (202)": f"{sum(1 for r in b.responses if r.status == 202)} of {n}",
            f"delivered before the SIGKILL at {kill_after:.2f} s": str(before),
            "being sent at the SIGKILL": str(in_flight),
            "delivered after the restart": str(delivered - before),
            "sent twice": str(sum(1 for c in counts.values() if c > 1)),
            "all delivered": (
                f"{time.monotonic() - restarted:.2f} s after the restart"
                if all_there
                else f"no: {n - delivered} lost ({recover_within:.0f} s watched after the restart)"
            ),
        }
        return Measurement(float(delivered), b, notes)

    return measure
