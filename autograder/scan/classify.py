"""A verdict per route from the figures measured outside the app.

Pure functions: the scan calls :func:`classify` on what it measured, the unit tests on
synthetic figures. Deciding figures are the client's: the latency of one request alone,
the latencies and statuses of a burst, the open-loop probe's latency (the event loop's
lag) and the app process's CPU time read from the kernel. The thread tokens the harness
reports from inside the app only word the explanation.

The verdicts, first match wins:

- ``errors``: the app died, the route hangs alone (loop free), answers 5xx alone, or
  answers 5xx / drops connections under the burst;
- ``blocks-loop``: the probe waited ``LAG_LIMIT`` or more (on at least two probes:
  one late probe is the machine's noise, a blocked loop delays every probe sent
  meanwhile);
- ``serialised``: the burst queued (the slowest request waited ``QUEUE_MIN`` more than
  alone, and at least ``SLOWDOWN`` times as long) and requests were served about one
  at a time (``parallelism`` under ``ONE_AT_A_TIME``);
- ``pool-queued``: the burst queued, several at a time but fewer than sent: a ceiling
  (the thread pool's tokens, a connection pool, a semaphore);
- ``fine``: none of those.
"""

from __future__ import annotations

from dataclasses import dataclass

VERDICTS = ("fine", "blocks-loop", "serialised", "pool-queued", "errors", "skipped")
LAG_LIMIT = 0.1  # s: the probe answers in ~1-5 ms when the loop is free
LATE_PROBE = 0.05  # s: a probe this late counts towards "at least two"
QUEUE_MIN = 0.1  # s: extra wait a person notices
SLOWDOWN = 1.5  # two waves through a pool are 2x: well above it
ONE_AT_A_TIME = 1.6
CPU_BOUND = 0.7  # share of one core the app used during the burst


@dataclass(frozen=True)
class Summary:
    """The figures a verdict rests on (seconds; None where not measured)."""

    alone: float | None  # latency of a request alone (best of two)
    alone_status: int | None
    alone_error: str | None  # no answer alone: why
    sent: int = 0  # burst size
    answered: int = 0
    server_errors: int = 0  # 5xx answers in the burst
    dropped: int = 0  # connections closed or reset without an answer
    max_latency: float | None = None  # slowest of the burst (unanswered: as long as waited)
    parallelism: float | None = None  # requests served at once, on average
    loop_lag: float | None = None  # worst probe latency over the route's measurement
    late_probes: int = 0  # probes at least LATE_PROBE late
    cpu_busy: float | None = None  # app CPU seconds per wall second during the burst
    died: str | None = None  # the app's process died: how
    tokens_peak: int | None = None  # thread tokens in use (reported from inside)
    tokens_total: int | None = None
    logged_error: str | None = None  # the exception the app logged (explains a 5xx)

    @property
    def slowdown(self) -> float | None:
        if self.alone is None or self.max_latency is None or self.alone <= 0:
            return None
        return self.max_latency / self.alone


def classify(s: Summary) -> tuple[str, str]:
    """(verdict, one sentence that says why, with the figures)."""
    lag = s.loop_lag or 0.0
    loop_blocked = lag >= LAG_LIMIT and s.late_probes >= 2
    if s.died:
        return "errors", f"the app's process died: {s.died}"
    if s.alone is None:
        if loop_blocked:
            return "blocks-loop", (
                f"no answer alone ({s.alone_error}) and the event loop was blocked for "
                f"{_ms(lag)}: every other request waited too"
            )
        return "errors", f"no answer alone: {s.alone_error} (the event loop stayed free: it hangs)"
    if s.alone_status is not None and s.alone_status >= 500:
        logged = f": the app logged {s.logged_error}" if s.logged_error else ""
        return "errors", f"answers {s.alone_status} even alone{logged}"
    if loop_blocked:
        return "blocks-loop", (
            f"the event loop was blocked for up to {_ms(lag)} ({s.late_probes} probes late): "
            "while it runs, no other request of the whole app is served"
        )
    if s.server_errors or s.dropped:
        what = []
        if s.server_errors:
            what.append(f"{s.server_errors} answered 5xx")
        if s.dropped:
            what.append(f"{s.dropped} dropped without an answer")
        return "errors", (
            f"alone it answers {s.alone_status}; under {s.sent} at once " + " and ".join(what)
        )
    slowdown = s.slowdown
    queued = (
        s.max_latency is not None
        and slowdown is not None
        and s.max_latency - s.alone >= QUEUE_MIN
        and slowdown >= SLOWDOWN
    )
    if not queued:
        return "fine", (
            f"{s.sent} at once took at most {_ms(s.max_latency or 0.0)} against "
            f"{_ms(s.alone)} alone; the loop stayed free ({_ms(lag)} worst probe)"
        )
    assert slowdown is not None and s.max_latency is not None
    at_once = s.parallelism or 0.0
    head = (
        f"{s.sent} at once: the slowest waited {_ms(s.max_latency)} against {_ms(s.alone)} "
        f"alone ({slowdown:.1f}x), about {at_once:.1f} served at a time"
    )
    if s.cpu_busy is not None and s.cpu_busy >= CPU_BOUND:
        return "blocks-loop", (
            head + f"; the app's process computed {s.cpu_busy:.0%} of the time: CPU-bound "
            "work runs one request at a time and holds the loop (or the GIL) meanwhile"
        )
    if at_once < ONE_AT_A_TIME:
        return "serialised", head + ": one after another (a lock, or a single shared connection)"
    tokens = ""
    if s.tokens_peak is not None and s.tokens_total:
        if s.tokens_peak >= s.tokens_total:
            tokens = (
                f"; the app reported all {s.tokens_total} thread-pool tokens in use: "
                "queued in the thread pool"
            )
        else:
            tokens = (
                f"; the app reported {s.tokens_peak} of {s.tokens_total} thread-pool tokens "
                "in use: a smaller pool or semaphore"
            )
    return "pool-queued", head + ": a ceiling on requests at once" + tokens


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"
