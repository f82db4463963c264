"""The scan's outputs: a table for the terminal, a figure per route, and an HTML page with
the figures."""

from __future__ import annotations

import base64
import dataclasses
import html
from pathlib import Path

from matplotlib.figure import Figure

from autograder.lab import plots
from autograder.scan.run import RouteResult, ScanResult

LABELS = {
    "fine": "fine",
    "blocks-loop": "BLOCKS THE EVENT LOOP",
    "serialised": "SERIALISED",
    "pool-queued": "QUEUED (pool ceiling)",
    "errors": "ERRORS",
    "skipped": "skipped",
}
STREAM_MARK = " (stream)"
WEBSOCKET_MARK = " (websocket)"


def _num(value: float | None, unit: str = "ms") -> str:
    if value is None:
        return "-"
    return f"{value:.0f} {unit}" if unit == "ms" else f"{value:.1f}{unit}"


def table(result: ScanResult) -> str:
    """One line per route, then what each non-fine verdict rests on."""
    lines = [f"scan of {result.target} ({result.concurrency} requests at once per route)"]
    if result.error:
        lines.append(f"the app could not be served: {result.error}")
        return "\n".join(lines)
    rows = [("METHOD", "PATH", "VERDICT", "ALONE", "SLOWEST", "SLOWDOWN", "LOOP LAG", "THREADS")]
    for r in result.routes:
        f = r.figures
        threads = "-"
        if f.get("threads_in_use") is not None and f.get("thread_tokens"):
            threads = f"{f['threads_in_use']}/{f['thread_tokens']}"
        rows.append(
            (
                r.method,
                r.path
                + (STREAM_MARK if f.get("stream") else "")
                + (WEBSOCKET_MARK if r.method == "WS" else ""),
                LABELS[r.verdict],
                _num(f.get("alone_ms")),
                _num(f.get("max_latency_ms")),
                _num(f.get("slowdown"), "x"),
                _num(f.get("loop_lag_ms")),
                threads,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    if any(r.figures.get("stream") for r in result.routes):
        lines.append(
            f"{STREAM_MARK.strip()}: answers text/event-stream; ALONE and SLOWEST are times to the "
            "first event (the streams were closed, never waited to their end)"
        )
    if any(r.figures.get("websocket") for r in result.routes):
        lines.append(
            f"{WEBSOCKET_MARK.strip()}: a WebSocket route; ALONE and SLOWEST are times from "
            "connecting to the first message (the connections were closed, never waited to "
            "their end)"
        )
    details = [r for r in result.routes if r.verdict != "fine"]
    if details:
        lines.append("")
    for r in details:
        lines.append(f"{r.method} {r.path}: {LABELS[r.verdict]}")
        if r.diagnosis:
            lines.append(f"  where: {r.diagnosis}")
        if r.reason:
            lines.append(f"  {'why' if r.verdict != 'skipped' else 'reason'}: {r.reason}")
    for note in result.notes:
        lines.append(f"note: {note}")
    measured = [r for r in result.routes if r.verdict != "skipped"]
    bad = [r for r in measured if r.verdict != "fine"]
    lines.append(
        f"\n{len(measured)} routes measured, {len(bad)} not fine, "
        f"{len(result.routes) - len(measured)} skipped, in {result.seconds:.1f} s"
    )
    return "\n".join(lines)


def figure(route: RouteResult) -> Figure | None:
    """The route's burst as a timeline over the loop probe's latency (the HTML report's
    picture; a notebook displays it as it is). None for a route not measured under load.

    A probe still unanswered when the scan stopped probing is drawn at the time it had
    waited by then, as the loop lag counts it: while the loop is blocked no probe is
    answered, and a trace of answered probes only would be empty exactly then."""
    m = route.measured
    if m is None or not m.burst:
        return None
    started = m.burst_started if m.burst_started is not None else m.began
    cut_off = m.probes_stopped if m.probes_stopped is not None else m.ended
    probes = [
        p if p.done else dataclasses.replace(p, end=cut_off, error=None)
        for p in m.probes
        if started <= p.start <= cut_off
    ]
    # burst_figure's layout, with the horizon the scan waited: requests it gave up on are
    # drawn grey until then, and the axis reaches as far as the probes were sent
    waited_ms = m.waited * 1000 or None
    horizon_ms = max(waited_ms or 0.0, (cut_off - started) * 1000)
    fig = Figure(figsize=(9, 5.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    what = (
        "streams at once (to the first event)"
        if m.stream
        else "WebSockets at once (to the first message)"
        if m.websocket
        else "requests at once"
    )
    title = f"{route.method} {route.sent or route.path}: {len(m.burst)} {what}"
    plots.timeline(m.burst, ax=top, title=title, cut_off_ms=waited_ms)
    plots.latency_trace(
        probes,
        ax=bottom,
        since=started,
        title="event-loop probe latency (sent every 20 ms; unanswered: waited so far)",
    )
    top.set_xlabel("")
    top.set_xlim(0, horizon_ms * 1.02)
    bottom.set_xlabel("time since the first request was sent (ms)")
    return fig


def _picture(route: RouteResult) -> str:
    fig = figure(route)
    if fig is None:
        return ""
    data = base64.b64encode(plots.png(fig, dpi=80)).decode()
    return f'<img alt="timeline of {html.escape(route.path)}" src="data:image/png;base64,{data}">'


def write_html(result: ScanResult, path: Path) -> None:
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>scan of {e(result.target)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "section{border-top:1px solid #ccc;padding:.5em 0}"
        ".fine{color:#2a7a2a}.bad{color:#b3261e}.skipped{color:#777}"
        "code{background:#f4f4f4;padding:0 .2em}img{max-width:100%}"
        "table{border-collapse:collapse}td,th{padding:.1em .6em;text-align:left}</style>",
        "</head><body>",
        f"<h1>Scan of <code>{e(result.target)}</code></h1>",
        f"<p>{result.concurrency} requests at once per route; scan took "
        f"{result.seconds:.1f} s.</p>",
    ]
    if result.error:
        parts.append(f"<p class='bad'>The app could not be served:</p><pre>{e(result.error)}</pre>")
    for note in result.notes:
        parts.append(f"<p>Note: {e(note)}</p>")
    for r in result.routes:
        css = "fine" if r.verdict == "fine" else "skipped" if r.verdict == "skipped" else "bad"
        parts.append(
            f"<section><h2><code>{e(r.method)} {e(r.path)}</code> "
            f"<span class='{css}'>{e(LABELS[r.verdict])}</span></h2>"
        )
        if r.diagnosis:
            parts.append(f"<p>Where: <code>{e(r.diagnosis)}</code></p>")
        if r.reason:
            parts.append(f"<p>{e(r.reason)}</p>")
        shown = {k: v for k, v in r.figures.items() if k != "timeline"}
        if shown:
            rows = "".join(
                f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in shown.items()
            )
            parts.append(f"<table>{rows}</table>")
        parts.append(_picture(r))
        parts.append("</section>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts))
