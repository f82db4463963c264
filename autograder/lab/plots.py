"""Pictures of what happened: request timelines and loop-lag traces (matplotlib).

Used by the notebooks, the drills and the grader's feedback, so a learner sees the same
picture everywhere. :func:`burst_figure` draws a :class:`~autograder.measure.burst.Burst` (the
record every measurement returns) as a ``Figure``; the other functions take plain
figures (``load.Response`` records or the ``timeline`` list of a verdict's ``metrics``)
and return the matplotlib ``Axes``.
Figures are built with ``matplotlib.figure.Figure``, not pyplot: no global state, safe
in threads and scripts; in a notebook, ``ax.figure`` displays as an image.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from autograder.measure.burst import LOOP, Burst, timeline_bars
from autograder.measure.load import Response

OK_COLOUR = "#3b7dd8"
BAD_COLOUR = "#d8553b"
PENDING_COLOUR = "#bbbbbb"


def _axes(ax: Axes | None, height: float = 3.5) -> Axes:
    if ax is not None:
        return ax
    fig = Figure(figsize=(8, height), layout="constrained")
    return fig.add_subplot()


def _as_bars(bars: Sequence[dict[str, Any]] | Sequence[Response]) -> list[dict[str, Any]]:
    if all(isinstance(b, Response) for b in bars):
        return timeline_bars([b for b in bars if isinstance(b, Response)], digits=3)
    return [b for b in bars if isinstance(b, dict)]


def timeline(
    bars: Sequence[dict[str, Any]] | Sequence[Response],
    *,
    ax: Axes | None = None,
    title: str = "Request timeline",
    cut_off_ms: float | None = None,
    events: Sequence[dict[str, Any]] = (),
    emails_ms: Sequence[float] = (),
) -> Axes:
    """One horizontal bar per request, from when it was sent to when its answer arrived.

    Requests served together stack up as bars of equal length; requests served one
    after another form a staircase; waves (a thread limiter) form blocks. A request
    never answered is drawn grey up to ``cut_off_ms`` (or the last answer).

    ``events`` (``{"at_ms", "what"}``: a SIGKILL, a restart) are dashed vertical lines;
    ``emails_ms`` are the times the SMTP server accepted an email, ticks under the bars.
    """
    rows = sorted(
        _as_bars(bars), key=lambda b: (b["end_ms"] is None, b["end_ms"] or 0.0, b["start_ms"])
    )
    ax = _axes(ax, height=max(2.5, min(0.12 * len(rows) + 1.5, 7)))
    ends = [b["end_ms"] for b in rows if b["end_ms"] is not None]
    horizon = cut_off_ms or (max(ends) if ends else 1000.0)
    for i, b in enumerate(rows):
        end = b["end_ms"]
        if end is None:
            colour, end = PENDING_COLOUR, horizon
        else:
            colour = OK_COLOUR if b["status"] and b["status"] < 400 else BAD_COLOUR
        ax.barh(i, end - b["start_ms"], left=b["start_ms"], height=0.8, color=colour)
    if events:  # a crash's timeline spans seconds: a request of a few ms needs a dot to be seen
        ax.plot([b["start_ms"] for b in rows], range(len(rows)), ".", color=OK_COLOUR, markersize=4)
    for event in events:
        ax.axvline(event["at_ms"], color="black", linestyle="--", linewidth=1)
        ax.annotate(
            event["what"], (event["at_ms"], len(rows) - 0.4), rotation=90, fontsize=8,
            xytext=(3, -3), textcoords="offset points", va="top",
        )
    bottom = -0.6
    if emails_ms:
        bottom = -1.6
        ax.plot(list(emails_ms), [-1.0] * len(emails_ms), "|", color=OK_COLOUR, markersize=10,
                label="email accepted by the SMTP server")
        ax.legend(loc="upper center", fontsize=8, framealpha=0.9)
    ax.set_xlabel("time since the first request was sent (ms)")
    ax.set_ylabel("request (sorted by finish)")
    ax.set_ylim(bottom, len(rows) - 0.4)
    ax.set_xlim(left=0)
    if len(rows) > 30:
        ax.set_yticks([])
    else:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # requests are counted, not measured
    ax.set_title(title)
    return ax


def streams(
    rows: Sequence[dict[str, Any]],
    *,
    ax: Axes | None = None,
    title: str = "Streams",
    cut_off_ms: float | None = None,
) -> Axes:
    """One line per stream (the ``streams`` of a token-stream verdict's metrics).

    Grey from the connection to the first token, blue while tokens arrived (a tick per
    token), up to the end of the stream; for a client that left, an orange cross where it
    left and a red line from there to when the model API saw its stream closed (the model
    still writing for nobody; up to ``cut_off_ms`` when it never did).
    """
    ordered = sorted(rows, key=lambda r: (bool(r.get("leaver")), r.get("first_token_ms") or 1e12))
    ax = _axes(ax, height=max(3.0, min(0.09 * len(ordered) + 1.8, 7)))
    horizon = cut_off_ms or max(
        (v for r in ordered for v in (r.get("end_ms"), r.get("upstream_closed_ms")) if v),
        default=1000.0,
    )
    for i, r in enumerate(ordered):
        first = r.get("first_token_ms")
        stop = r.get("left_ms") or r.get("end_ms") or horizon
        ax.plot([0, first if first is not None else stop], [i, i], color=PENDING_COLOUR, lw=2)
        if first is not None:
            ax.plot([first, stop], [i, i], color=OK_COLOUR, lw=2)
        ticks = r.get("token_ms") or []
        ax.plot(ticks, [i] * len(ticks), "|", color=OK_COLOUR, markersize=4)
        if r.get("left_ms") is not None:
            closed = r.get("upstream_closed_ms")
            ax.plot(
                [r["left_ms"], closed if closed is not None else horizon],
                [i, i],
                color=BAD_COLOUR,
                lw=1.5,
            )
            ax.plot([r["left_ms"]], [i], "x", color="#e08a00", markersize=5)
            if closed is not None:
                ax.plot([closed], [i], "o", color=BAD_COLOUR, markersize=3)
    handles: list[Artist] = [
        Patch(color=PENDING_COLOUR, label="waiting for the first token"),
        Patch(color=OK_COLOUR, label="tokens arriving"),
        Patch(color=BAD_COLOUR, label="client gone, model stream still open"),
    ]
    ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.9)
    ax.set_xlabel("time since the streams were opened (ms)")
    ax.set_ylabel("stream (leavers on top)")
    ax.set_ylim(-0.6, len(ordered) - 0.4)
    ax.set_xlim(left=0)
    ax.set_yticks([])
    ax.set_title(title)
    return ax


def members(
    rows: Sequence[dict[str, Any]],
    *,
    published_ms: Sequence[float] = (),
    resumed_ms: float | None = None,
    ax: Axes | None = None,
    title: str = "Members",
) -> Axes:
    """Messages received over time, one line per WebSocket member (the ``members`` of a
    ws-broadcast verdict's metrics; times from the first publish).

    Black dashes: messages published so far. Blue: each member that kept reading (a line
    under the publisher's means it fell behind). Orange: the member that stopped reading,
    with a dotted line where it read again and a cross where its connection ended (the app
    dropped it, or uvicorn's keepalive closed it). Grey: the member that vanished.
    """
    ax = _axes(ax, height=4.0)
    colours = {"healthy": OK_COLOUR, "stalled": "#e08a00", "vanished": "#888888"}
    horizon = max(
        [float(t) for r in rows for t in (r.get("received_ms") or [])[-1:]]
        + [float(r["ended_ms"]) for r in rows if r.get("ended_ms") is not None]
        + [float(t) for t in published_ms[-1:]]
        + [1000.0]
    )
    if published_ms:
        xs = [0.0, *published_ms, horizon]
        ax.step(
            xs,
            [0, *range(1, len(published_ms) + 1), len(published_ms)],
            where="post",
            color="black",
            lw=1.0,
            ls="--",
            zorder=5,
        )
    for r in sorted(rows, key=lambda r: r.get("role") != "healthy"):
        role = r.get("role", "healthy")
        ticks = [float(t) for t in r.get("received_ms") or []]
        colour = colours.get(role, OK_COLOUR)
        end = float(r["ended_ms"]) if r.get("ended_ms") is not None else horizon
        ax.step(
            [0.0, *ticks, end],
            [0, *range(1, len(ticks) + 1), len(ticks)],
            where="post",
            color=colour,
            lw={"healthy": 2.5, "stalled": 2.0}.get(role, 1.0),
            alpha=0.5 if role == "healthy" else 1.0,
            ls=":" if role == "vanished" else "-",
        )
        if r.get("ended_ms") is not None and role != "healthy":
            ax.plot(
                [end],
                [len(ticks)],
                "x",
                color=BAD_COLOUR if role == "stalled" else colour,
                markersize=8,
                mew=2,
            )
    if resumed_ms is not None:
        ax.axvline(resumed_ms, color=colours["stalled"], ls=":", lw=1.2)
    handles: list[Artist] = [
        Patch(color="black", label="published so far"),
        Patch(color=OK_COLOUR, label="members that kept reading"),
        Patch(color=colours["stalled"], label="stopped reading (dotted: read again)"),
        Patch(color=colours["vanished"], label="vanished (dotted; answers no ping)"),
        Patch(color=BAD_COLOUR, label="x: its connection ended"),
    ]
    ax.legend(handles=handles, loc="upper left", fontsize=7, framealpha=0.9)
    ax.set_xlabel("time since the first message was published (ms)")
    ax.set_ylabel("messages received")
    ax.set_xlim(0, horizon)
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    return ax


def bar_colour_handles(
    *, ok: str | None = "answered", error: str | None = None, pending: str | None = None
) -> tuple[list[Artist], list[str]]:
    """Legend entries for :func:`timeline`'s bar colours, each colour named only if given
    a text (say what the red bars were: "504 (deadline passed)")."""
    handles: list[Artist] = []
    labels: list[str] = []
    for colour, text in ((OK_COLOUR, ok), (BAD_COLOUR, error), (PENDING_COLOUR, pending)):
        if text:
            handles.append(Patch(color=colour))
            labels.append(text)
    return handles, labels


def legend_with_bar_colours(
    ax: Axes,
    *,
    ok: str | None = "answered",
    error: str | None = None,
    pending: str | None = None,
    **legend: Any,
) -> None:
    """A legend of the axes' labelled lines and marks, plus what its bar colours mean."""
    handles, labels = ax.get_legend_handles_labels()
    bars, texts = bar_colour_handles(ok=ok, error=error, pending=pending)
    ax.legend([*handles, *bars], [*labels, *texts], **legend)


def latency_trace(
    probes: Sequence[Response],
    *,
    ax: Axes | None = None,
    title: str = "Loop probe latency",
    limit_ms: float | None = 100.0,
    since: float | None = None,
) -> Axes:
    """Latency of each probe (sent open-loop every 20 ms) against when it was sent.

    A free event loop answers a probe in a few ms; a blocked one makes every probe
    sent during the stall wait, so the trace climbs in sawteeth as long as the stall.
    """
    ax = _axes(ax, height=3)
    if probes:
        t0 = since if since is not None else min(p.start for p in probes)
        answered = [(p.start, p.end) for p in probes if p.end is not None and not p.error]
        xs = [(start - t0) * 1000 for start, _ in answered]
        ys = [(end - start) * 1000 for start, end in answered]
        ax.plot(xs, ys, marker=".", linewidth=1, color=OK_COLOUR)
    if limit_ms is not None:
        ax.axhline(
            limit_ms, color=BAD_COLOUR, linestyle="--", linewidth=1, label=f"{limit_ms:.0f} ms"
        )
        ax.legend(loc="upper right")
    ax.set_xlabel("probe sent at (ms)")
    ax.set_ylabel("latency (ms)")
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    return ax


def burst_figure(
    burst: Burst,
    title: str,
    *,
    probe_title: str | None = None,
    limit_ms: float | None = 100.0,
) -> Figure:
    """A burst's request timeline and, when probes were sent meanwhile, their latency
    below it on the same time axis (ms since the burst's first request). The probe trace
    is titled after what was probed unless ``probe_title`` says otherwise."""
    fig = Figure(figsize=(9, 5.5 if burst.probes else 3.5), layout="constrained")
    if not burst.probes:
        timeline(burst.responses, ax=fig.add_subplot(), title=title)
        return fig
    if probe_title is None:
        probed = burst.probe_path
        probe_title = "Loop probe latency" if probed in (None, LOOP) else f"{probed} latency"
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    timeline(burst.responses, ax=top, title=title)
    latency_trace(
        burst.probes, ax=bottom, since=burst.started, title=probe_title, limit_ms=limit_ms
    )
    top.set_xlabel("")
    bottom.set_xlabel("time since the first request was sent (ms)")
    return fig


def lag_samples(
    samples: Sequence[tuple[float, float]], *, ax: Axes | None = None, title: str = "Event-loop lag"
) -> Axes:
    """(time s, lag s) pairs from the in-process sampler, as a stem plot in ms."""
    ax = _axes(ax, height=3)
    if samples:
        t0 = samples[0][0]
        ax.vlines(
            [(t - t0) * 1000 for t, _ in samples],
            0,
            [lag * 1000 for _, lag in samples],
            color=BAD_COLOUR,
        )
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("wake-up late by (ms)")
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    return ax


def png(fig: Figure | SubFigure, *, dpi: int = 100) -> bytes:
    buffer = io.BytesIO()
    fig.figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _show_figures_as_png_in_ipython() -> None:
    """Make ``display(fig)`` draw the picture in a notebook.

    IPython renders a pyplot-free ``Figure`` as text unless a PNG formatter is
    registered for it (pyplot's inline backend does that only once pyplot is imported).
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["image/png"].for_type(Figure, png)


_show_figures_as_png_in_ipython()


def save(ax: Axes, path: str) -> None:
    ax.figure.figure.savefig(path, dpi=110)
