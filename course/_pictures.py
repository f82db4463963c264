"""The lessons' figures: each function draws one picture a notebook shows, from the
figures its run measured, and returns a ``Figure`` (``display(fig)`` draws it).

Pictures every part of the course draws (a burst's timeline, a probe's latency) are the
engine's, in :mod:`autograder.lab.plots`; the ones here belong to one lesson each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from _scenarios import LookupRun, ScenarioRun, in_flight_steps, per_worker, pid_of, upstream_calls
from matplotlib.figure import Figure

from autograder.lab import Burst, plots
from autograder.measure.load import Response

GREY = "#888888"


# -- 00 setup ----------------------------------------------------------------------------


def thread_pools_figure(
    anyio_bars: Sequence[dict[str, Any]], anyio_peak: int,
    executor_bars: Sequence[dict[str, Any]], executor_peak: int, tasks: int,
) -> Figure:
    """The same blocking tasks through AnyIO's threads (left) and asyncio's default
    executor (right): each block of bars is one wave, as many as the pool has threads."""
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    left, right = fig.subplots(1, 2, sharex=True)
    plots.timeline(anyio_bars, ax=left, title=f"AnyIO threads (FastAPI's def endpoints): {anyio_peak} at a time")
    plots.timeline(executor_bars, ax=right, title=f"asyncio.to_thread: {executor_peak} at a time")
    for ax in (left, right):
        ax.set_xlabel(f"ms since {tasks} tasks were submitted (bar: a thread holding one)")
        ax.set_ylabel("task (sorted by finish)")
    return fig


# -- 01 the event loop -------------------------------------------------------------------


def tasks_and_lag_figure(
    bars: Sequence[dict[str, Any]], lag: Sequence[tuple[float, float]], title: str
) -> Figure:
    """Tasks' bars (left) beside the loop-lag meter's samples taken meanwhile (right)."""
    fig = Figure(figsize=(11, 3.8), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[3, 2])
    plots.timeline(bars, ax=left, title=title)
    left.set_xlabel("ms since the tasks were created")
    left.set_ylabel("task (sorted by finish)")
    plots.lag_samples(lag, ax=right, title="loop-lag meter (5 ms sampler)")
    right.set_xlabel("ms since the meter started")
    return fig


# -- 02 def vs async def ----------------------------------------------------------------


def endpoint_timelines_figure(bursts: Mapping[str, Burst], upstream_peaks: Mapping[str, int]) -> Figure:
    """One timeline per endpoint (two by two), titled with the upstream's peak of calls
    in flight during its burst."""
    fig = Figure(figsize=(12, 7), layout="constrained")
    for ax, (path, b) in zip(fig.subplots(2, 2).flat, bursts.items(), strict=True):
        plots.timeline(b.responses, ax=ax, title=f"{len(b.responses)} x {path} (upstream peak {upstream_peaks[path]})")
    return fig


# -- 03 background tasks ----------------------------------------------------------------


def answer_and_tasks_figure(answer: Response, events: Sequence[dict[str, Any]], title: str) -> Figure:
    """The response as its client waited for it, and each background task from its start
    to its end (``events``: the app's ``{"name", "start", "end"}`` records, in the order
    they ran), on one time axis from the moment the request was sent."""
    t0 = answer.start
    bars = [{"start_ms": 0.0, "end_ms": (answer.latency or 0.0) * 1000, "status": answer.status}]
    bars += [{"start_ms": (e["start"] - t0) * 1000, "end_ms": (e["end"] - t0) * 1000, "status": 200}
             for e in events]
    fig = Figure(figsize=(9, 3), layout="constrained")
    ax = plots.timeline(bars, ax=fig.add_subplot(), title=title)
    # the timeline sorts by finish: the answer ends first, then the tasks in the order they ran
    ax.set_yticks(range(len(bars)), ["the response (client)"] + [e["name"] for e in events])
    ax.set_ylabel("")
    return fig


# -- 04 thread-pool exhaustion -----------------------------------------------------------


def limiter_figure(run: LookupRun, title: str) -> Figure:
    """A lookup burst's request timeline above the thread limiter's tokens in use (and
    threads alive), sampled inside the app every 5 ms, on one time axis, against the
    limiter's total tokens."""
    burst, limiter = run["burst"], run["limiter"]
    fig = Figure(figsize=(9, 6), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    plots.timeline(burst.responses, ax=top, title=title)
    t0 = min(r.start for r in burst.responses)
    horizon = (max(r.end for r in burst.answered if r.end) - t0) * 1000 + 100
    trace = [s for s in limiter["trace"] if (s[0] - t0) * 1000 <= horizon]
    xs = [(t - t0) * 1000 for t, _, _ in trace]
    bottom.step(xs, [b for _, b, _ in trace], where="post", color=plots.OK_COLOUR,
                label="limiter tokens in use")
    bottom.step(xs, [th for _, _, th in trace], where="post", color=GREY,
                linewidth=1, label="threads alive")
    bottom.axhline(limiter["total_tokens"], color=plots.BAD_COLOUR, linestyle="--",
                   linewidth=1, label=f"total_tokens = {limiter['total_tokens']}")
    peak_threads = max((th for *_, th in trace), default=0)
    # headroom above the highest line, and the legend outside the plot: the lines run to
    # the right edge, where any legend inside would cover their end
    bottom.set_ylim(0, max(limiter["total_tokens"], peak_threads) * 1.15)
    bottom.set_ylabel("count")
    bottom.set_xlabel("time since the first request was sent (ms)")
    bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    top.set_xlabel("")
    return fig


def costs_figure(runs: Mapping[str, LookupRun]) -> Figure:
    """Threads in the app's process (left) and its open connections to the upstream
    (right), measured right after each run's burst; one bar per run, named by its key."""
    fig = Figure(figsize=(9, 3), layout="constrained")
    left, right = fig.subplots(1, 2)
    names = list(runs)
    left.bar(names, [r["costs"]["threads"] for r in runs.values()], color=plots.OK_COLOUR)
    left.set_title("threads in the app's process")
    right.bar(names, [r["costs"]["upstream_connections"] for r in runs.values()],
              color=plots.BAD_COLOUR)
    right.set_title("open connections to the upstream")
    return fig


# -- 05 CPU-bound work ------------------------------------------------------------------


def health_p95_figure(results: Mapping[str, dict[str, Any]], limit_ms: float, title: str) -> Figure:
    """``/health``'s 95th-percentile latency for each way of running the jobs (a bar each,
    red over ``limit_ms``), on a log scale; ``results`` maps a way to its ``p95_ms``."""
    fig = Figure(figsize=(9, 3.2), layout="constrained")
    ax = fig.add_subplot()
    names = list(results)
    p95s = [max(results[n]["p95_ms"], 1.0) for n in names]  # a log scale has no 0
    ax.barh(names, p95s, color=[plots.BAD_COLOUR if p > limit_ms else plots.OK_COLOUR for p in p95s])
    ax.axvline(limit_ms, color="black", linestyle="--", linewidth=1, label=f"{limit_ms:.0f} ms")
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel("/health latency, 95th percentile (ms, log scale)")
    ax.set_title(title)
    ax.legend(loc="lower right")
    return fig


def probe_traces_figure(results: Mapping[str, dict[str, Any]], limit_ms: float) -> Figure:
    """Each way's ``/health`` probe latency over its burst, one small trace per way (two
    per row); ``results`` maps a way to its ``burst``."""
    rows = -(-len(results) // 2)
    fig = Figure(figsize=(9, 8 * rows / 3), layout="constrained")
    axes = fig.subplots(rows, 2, squeeze=False).flat
    for ax, (name, result) in zip(axes, results.items(), strict=False):
        burst: Burst = result["burst"]
        plots.latency_trace(burst.probes, ax=ax, since=burst.started, title=name, limit_ms=limit_ms)
    for ax in list(fig.axes)[len(results):]:  # an odd count leaves an empty cell in the grid
        ax.set_axis_off()
    return fig


# -- 06 production ----------------------------------------------------------------------


def worker_figure(bursts: Mapping[str, Burst], limit_ms: float) -> Figure:
    """Per burst at a multi-worker server: each request's bar coloured by the worker
    that answered it (grouped by worker, then by finish), above ``/health``'s probes,
    each dot coloured by the worker that answered it, against ``limit_ms``."""
    fig = Figure(figsize=(4 * len(bursts), 5.5), layout="constrained")
    axes = fig.subplots(2, len(bursts), sharex="col", squeeze=False, height_ratios=[3, 2])
    colours: dict[int, str] = {}  # one colour per worker across the panels
    for k, (name, b) in enumerate(bursts.items()):
        top, bottom = axes[0][k], axes[1][k]
        row = 0
        for pid, answers in sorted(per_worker(b).items()):
            colour = colours.setdefault(pid, f"C{len(colours)}")
            for r in answers:
                top.barh(row, ((r.end or r.start) - r.start) * 1000, left=(r.start - b.started) * 1000,
                         color=colour, height=0.8, label=f"worker {pid}" if r is answers[0] else None)
                row += 1
        for pid in sorted({pid_of(p) for p in b.probes if p.done}):
            mine = [p for p in b.probes if p.done and pid_of(p) == pid]
            bottom.scatter([(p.start - b.started) * 1000 for p in mine],
                           [(p.latency or 0.0) * 1000 for p in mine],
                           s=10, color=colours.setdefault(pid, f"C{len(colours)}"), label=f"worker {pid}")
        bottom.axhline(limit_ms, color="grey", linestyle="--", linewidth=1)
        top.set_title(f"{name}: {b.total:.2f} s")
        top.set_ylabel("request (by worker, then finish)")
        top.legend(loc="lower right", fontsize="small")
        bottom.set_title("/health: who answered, how late")
        bottom.set_xlabel("ms since the first request")
        bottom.set_ylabel("latency (ms)")
    return fig


# -- 07 more stalls ----------------------------------------------------------------------


def exports_figure(runs: Mapping[str, ScenarioRun], first_row_limit_ms: float) -> Figure:
    """Each export's bar (sent to ended; grey: not ended when the scenario gave up) with a
    dot where its first row arrived, and the first-row limit as a dotted line; one panel
    per app, one legend for all below them."""
    fig = Figure(figsize=(12, 4.6), layout="constrained")
    unended = False
    for ax, (name, run) in zip(fig.subplots(1, len(runs), sharex=True), runs.items(), strict=True):
        requests = run["figures"].requests
        unended = unended or not all(r.done for r in requests)
        plots.timeline(requests, ax=ax, title=name, cut_off_ms=run["figures"].waited * 1000)
        # the timeline sorts bars by their end (unanswered last): put each dot on its bar
        order = sorted(range(len(requests)), key=lambda i: (not requests[i].done, requests[i].end or 0.0))
        firsts = run["extra"]["first_row_ms"]
        ax.scatter([firsts[i] for i in order if firsts[i] is not None],
                   [row for row, i in enumerate(order) if firsts[i] is not None],
                   color="black", s=10, zorder=3, label="first row arrived")
        ax.axvline(first_row_limit_ms, color=plots.BAD_COLOUR, linestyle=":", linewidth=1,
                   label=f"first-row limit ({first_row_limit_ms:.0f} ms)")
    # below the panels: inside, a legend would cover the bars it explains
    handles, labels = fig.axes[0].get_legend_handles_labels()
    bars, texts = plots.bar_colour_handles(ok="export ended", pending="not ended" if unended else None)
    fig.legend([*handles, *bars], [*labels, *texts], loc="outside lower center", ncols=4,
               fontsize="small")
    return fig


def fan_out_figure(runs: Mapping[str, ScenarioRun], limit: int, part_delay_ms: float) -> Figure:
    """Top: the upstream's calls in flight during the 10-dashboard burst, its ``limit``,
    and the calls it refused (429). Bottom: the failing dashboard's five calls as the
    upstream saw them (answered, failed, abandoned). One column per app."""
    fig = Figure(figsize=(12, 6), layout="constrained")
    axes = fig.subplots(2, len(runs))
    colours = {"answered": plots.OK_COLOUR, "failed": plots.BAD_COLOUR, "abandoned": plots.PENDING_COLOUR}
    for col, (name, run) in enumerate(runs.items()):
        burst_calls = [c for c in run["deps"]["limited"]["parts"]["calls"] if c["user"].startswith("user")]
        t0 = min(r.start for r in run["figures"].requests)
        xs, ys = in_flight_steps(upstream_calls(burst_calls), t0)
        top = axes[0][col]
        top.step(xs, ys, where="post", color=plots.OK_COLOUR, label="calls in flight at the upstream")
        refused = [(c["start"] - t0) * 1000 for c in burst_calls if c.get("outcome") == "refused"]
        top.plot(refused, [0.5] * len(refused), "|", color=plots.BAD_COLOUR, markersize=12,
                 label=f"{len(refused)} refused (429)")
        top.axhline(limit, color=plots.BAD_COLOUR, linestyle="--", linewidth=1, label=f"limit {limit}")
        top.set_title(f"{name}: 10 dashboards at once")
        top.set_xlabel("ms since the burst")
        top.legend(loc="center", fontsize="small")
        bottom = axes[1][col]
        for i, c in enumerate(run["extra"]["failing_dashboard_calls"]):
            end = c["end_ms"] if c["end_ms"] is not None else c["start_ms"]
            bottom.barh(i, end - c["start_ms"], left=c["start_ms"], color=colours.get(c["outcome"], "black"))
            bottom.text(end + 5, i, f"{c['part']}: {c['outcome']}", va="center", fontsize="small")
        bottom.set_xlim(0, part_delay_ms * 1.8)
        bottom.set_yticks([])
        bottom.set_title("the outage user's five calls, at the upstream")
        bottom.set_xlabel("ms since that dashboard was asked for")
    return fig


def quotes_figure(runs: Mapping[str, ScenarioRun], worker_threads: int = 40) -> Figure:
    """Each quote's bar (red: answered with an error status, the fix's 504 at its
    deadline; grey: never answered) above the hanging connections the upstream held
    open, in time. One column per app."""
    fig = Figure(figsize=(12, 6), layout="constrained")
    axes = fig.subplots(2, len(runs), sharex=True, height_ratios=[3, 2])
    for col, (name, run) in enumerate(runs.items()):
        requests = run["figures"].requests
        horizon = run["figures"].waited * 1000
        top, bottom = axes[0][col], axes[1][col]
        plots.timeline(requests, ax=top, title=name, cut_off_ms=horizon)
        top.set_xlabel("")
        # name only the colours this panel shows
        errors = any(r.done and (r.status or 0) >= 400 for r in requests)
        plots.legend_with_bar_colours(
            top, ok="answered 200", error="answered 504 (deadline passed)" if errors else None,
            pending="no answer" if not all(r.done for r in requests) else None,
            loc="lower right", fontsize="small",
        )
        xs, ys = in_flight_steps(run["extra"]["_hangs"], min(r.start for r in requests))
        xs.append(horizon + 500)  # the count still open at the end, drawn to the right edge
        ys.append(ys[-1])
        bottom.step(xs, ys, where="post", color=plots.BAD_COLOUR, label="hanging connections open")
        bottom.axhline(worker_threads, color=GREY, linestyle=":", linewidth=1,
                       label=f"{worker_threads} worker threads")
        bottom.set_ylabel("open at the upstream")
        bottom.set_title("hanging connections held open")
        bottom.set_xlabel("ms since the first quote")
        bottom.legend(loc="center right", fontsize="small")
    return fig


def health_probes_figure(runs: Mapping[str, ScenarioRun], limit_ms: float) -> Figure:
    """``/health``'s and the download's latency, probe by probe (one every 20 ms from the
    burst on), against the health limit; one panel per app."""
    fig = Figure(figsize=(12, 3.8), layout="constrained")
    for ax, (name, run) in zip(fig.subplots(1, len(runs), sharey=True), runs.items(), strict=True):
        for key, colour in (("health", plots.OK_COLOUR), ("download", GREY)):
            lat = run["extra"][f"{key}_latencies_ms"]
            ax.plot(range(len(lat)), lat, marker=".", linewidth=1, color=colour, label=f"{key} probes")
        ax.axhline(limit_ms, color=plots.BAD_COLOUR, linestyle="--", linewidth=1, label=f"{limit_ms:.0f} ms")
        ax.set_title(name)
        ax.set_xlabel("probe (one every 20 ms, from the burst on)")
        ax.set_ylabel("latency (ms)")
        ax.legend(loc="upper right", fontsize="small")
    return fig


def orders_figure(runs: Mapping[str, dict[str, Any]]) -> Figure:
    """Per app, side by side: the orders' timeline (red: 503, no connection within the
    pool timeout) above ``/health``'s latency meanwhile."""
    fig = Figure(figsize=(12, 5.5), layout="constrained")
    for column, (name, r) in zip(fig.subfigures(1, len(runs), squeeze=False)[0], runs.items(), strict=True):
        top, bottom = column.subplots(2, 1, sharex=True, height_ratios=[3, 2])
        burst: Burst = r["burst"]
        plots.timeline(burst.responses, ax=top, title=f"{name}: {len(burst.responses)} orders")
        plots.legend_with_bar_colours(top, ok="200", error="503 (pool timeout)",
                                      loc="lower right", fontsize="small")
        top.set_xlabel("")
        plots.latency_trace(burst.probes, ax=bottom, since=burst.started, title="/health latency")
    return fig


# -- 07 PostgreSQL -----------------------------------------------------------------------


def held_connections_figure(runs: Mapping[str, ScenarioRun], pool: int) -> Figure:
    """Per app: orders in flight (sent, not yet answered) against the service's connections
    at the server, as ``pg_stat_activity`` showed them every 20 ms, and how many of those
    sat idle in a transaction. The gap between the two curves is orders waiting for a
    connection."""
    fig = Figure(figsize=(12, 4.2), layout="constrained")
    axes = fig.subplots(1, len(runs), sharey=True, squeeze=False)[0]
    for ax, (name, r) in zip(axes, runs.items(), strict=True):
        requests = r["figures"].requests
        t0 = min(q.start for q in requests)
        xs, ys = in_flight_steps([(q.start, q.end) for q in requests], t0)
        ax.step(xs, ys, where="post", color=GREY, label="orders in flight")
        timeline = r["extra"]["connections_timeline"]
        ax.plot([t for t, _, _ in timeline], [n for _, n, _ in timeline], color="C0",
                label="connections at the server")
        ax.plot([t for t, _, _ in timeline], [h for _, _, h in timeline], color="C3",
                label="… idle in transaction")
        ax.axhline(pool, color="C0", linestyle=":", linewidth=1)
        ax.set_title(name, fontsize="medium")
        ax.set_xlabel("ms since the 40 orders were sent")
    axes[0].set_ylabel("count")
    axes[0].legend(loc="upper right", fontsize="small")
    return fig


# -- 09 streams ----------------------------------------------------------------------


def listeners_figure(idle: Mapping[str, dict[str, Any]]) -> Figure:
    """Left: the app process's memory (RSS) as idle ``async`` listeners opened, with the
    per-stream slope. Right: ``/health``'s p95 with no listener, with every listener of
    each kind open, and right after they all left (``idle``: ``_streams.hold_listeners``
    results by name)."""
    fig = Figure(figsize=(12, 4), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[3, 2])
    a = idle["async"]
    xs = [s["streams"] for s in a["trace"]]
    left.plot(xs, [s["rss"] / 2**20 for s in a["trace"]], marker="o", color=plots.OK_COLOUR,
              label=f"async def generators: {a['kb_per_stream']:.0f} KB per stream")
    left.set_xlabel("idle SSE streams open")
    left.set_ylabel("app process memory, RSS (MB)")
    left.set_title("memory per listener")
    left.legend(loc="upper left", fontsize="small")
    names, values, colours = [], [], []
    for kind, run in idle.items():
        n = run["trace"][-1]["streams"]
        for label, h in ((f"{kind}: none open", run["health"][0]),
                         (f"{kind}: {n} open", run["health"][n]),
                         (f"{kind}: just left", run["health_after_leaving"])):
            names.append(f"{label}\n({h['answered']}/{h['probes']} answered)")
            values.append(h["p95_ms"])
            colours.append(plots.OK_COLOUR if h["answered"] == h["probes"] else plots.BAD_COLOUR)
    right.barh(range(len(values)), values, color=colours)
    right.set_yticks(range(len(values)), names, fontsize="small")
    right.invert_yaxis()
    right.set_xscale("log")
    right.set_xlabel("GET /health (a def endpoint), p95 (ms, log)")
    right.set_title("/health while the listeners wait")
    return fig


def relays_figure(runs: Mapping[str, dict[str, Any]], names: Mapping[str, str]) -> Figure:
    """Per relay style, each client that left: the tokens the model wrote before it left
    and after (wasted), one bar per client."""
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax = fig.add_subplot()
    y, ticks, labels = 0, [], []
    for style, run in runs.items():
        for n, r in enumerate(run["rows"]):
            before = (r["model_tokens"] or 0) - (r["wasted"] or 0)
            ax.barh(y, before, color=plots.OK_COLOUR, label="written before the client left" if y == 0 else None)
            ax.barh(y, r["wasted"] or 0, left=before, color=plots.BAD_COLOUR,
                    label="written after it left (wasted)" if y == 0 else None)
            if n == 0:
                ticks.append(y)
                labels.append(names[style])
            y += 1
        y += 1
    ax.set_yticks(ticks, labels)
    ax.invert_yaxis()
    ax.set_xlabel("tokens the model wrote, per client that left after 5 (answers of 80)")
    ax.set_title("who keeps the model writing after the browser left")
    ax.legend(loc="upper right", fontsize="small")  # the top rows end after 5 tokens: room there
    return fig


def rooms_figure(runs: Mapping[str, dict[str, Any]], titles: Mapping[str, str]) -> Figure:
    """One panel per room run (``_sockets.room`` results by name): messages received over
    time by each member (``autograder.lab.plots.members``, the ws-broadcast verdict's
    picture), the publisher's messages dashed, the stalled member in orange."""
    fig = Figure(figsize=(6 * len(runs), 4), layout="constrained")
    axes = fig.subplots(1, len(runs), squeeze=False)[0]
    for ax, (name, run) in zip(axes, runs.items(), strict=True):
        plots.members(run["members"], published_ms=run["published_ms"], resumed_ms=run["resumed_ms"],
                      ax=ax, title=titles[name])
        ax.set_xlim(0, ax.get_xlim()[1] * 1.04)  # room for what arrived last, at the right edge
    return fig
