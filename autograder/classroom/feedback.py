"""What a student reads: a verdict written into the notebook's cells as outputs.

Nothing here executes the notebook. Each test cell gets its check's verdict and full
message (wrapped, so nothing scrolls out of sight); a failed check's text goes to stderr,
which is how nbgrader scores a test cell 0. The app cell gets what the grader saw of the
service: the line that blocked the event loop, with its source, and the request
timeline with its colours told in words. No score (nbgrader prints it once, at the top)
and nothing of the grader's own code.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

from autograder.classroom.notebook import CHECK_PREFIX
from autograder.harness.app import WS_PING_INTERVAL, WS_PING_TIMEOUT
from autograder.judges.verdict import Verdict

WIDTH = 78
# ANSI colours: nbconvert and JupyterLab show them; a failed check stands out in red.
RED, GREEN, RESET = "\x1b[31m", "\x1b[32m", "\x1b[0m"
# nbgrader's feedback page drops the stylesheet that colours those and stderr: this output
# (HTML, invisible) brings the few rules back, and lets long lines wrap.
STYLE = """<style>
.ansi-red-fg { color: #b71c1c; font-weight: bold; }
.ansi-green-fg { color: #1b5e20; font-weight: bold; }
div.output_stderr { background: #fdecea; }
div.output_subarea pre { white-space: pre-wrap; overflow-wrap: anywhere; }
</style>"""
# "app.py:12 in report: time.sleep(0.3)": the form diagnosis.diagnose names a line in.
BLAMED_LINE = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+) in (?P<func>[^:]+): (?P<code>.*)$")
CONTEXT = 2


def wrap(text: str, indent: str = "") -> str:
    """``text`` broken at ``WIDTH`` columns, each paragraph on its own."""
    return "\n".join(
        textwrap.fill(p, WIDTH, initial_indent=indent, subsequent_indent=indent) or indent
        for p in text.splitlines()
    )


def timeline_png(verdict: Verdict) -> bytes | None:
    """The verdict's request timeline as PNG bytes (None when nothing was sent)."""
    from matplotlib.figure import Figure

    from autograder.lab import plots

    bars = verdict.metrics.get("timeline") or []
    if not bars:
        return None
    waited = verdict.metrics.get("waited_ms")
    if verdict.metrics.get("members"):  # ws-broadcast: messages received over time, per member
        ax = plots.members(
            verdict.metrics["members"],
            published_ms=verdict.metrics.get("published_ms") or (),
            resumed_ms=verdict.metrics.get("resumed_ms"),
            title=f"{verdict.exercise}: what each member of the room received",
        )
        figure = ax.get_figure(root=True)
        assert isinstance(figure, Figure)
        return plots.png(figure, dpi=90)
    if verdict.metrics.get("streams"):  # token-stream: one line per stream, not per request
        ax = plots.streams(
            verdict.metrics["streams"], title=f"{verdict.exercise}: the grader's streams"
        )
        figure = ax.get_figure(root=True)
        assert isinstance(figure, Figure)
        return plots.png(figure, dpi=90)
    ax = plots.timeline(
        bars,
        title=f"{verdict.exercise}: the grader's requests to your service",
        cut_off_ms=waited if isinstance(waited, int | float) else None,
        events=verdict.metrics.get("events") or (),
        emails_ms=verdict.metrics.get("emails_ms") or (),
    )
    figure = ax.get_figure(root=True)
    assert isinstance(figure, Figure)
    return plots.png(figure, dpi=90)


def timeline_caption(verdict: Verdict) -> str:
    """What the picture's colours mean, in words."""
    if verdict.metrics.get("members"):
        return wrap(
            "How to read the picture: how many messages each member of the room had received, "
            "over time. Black dashes: the messages published so far. Blue: the 30 members "
            "that kept reading; lines that keep to the black one got every message at once, "
            "a flat stretch is a member waiting. Orange: the member that stopped reading; it "
            "read again at the dotted line, and a red cross marks when its connection ended "
            "(dropped by your service). No cross means its connection was never ended; "
            "messages after the dotted line mean it was still being sent to. Grey: the "
            "member that vanished; uvicorn's keepalive closes it after about "
            f"{WS_PING_INTERVAL + WS_PING_TIMEOUT:.0f} s."
        )
    if verdict.metrics.get("streams"):
        return wrap(
            "How to read the picture: one line per stream the grader opened, all at once at 0. "
            "Grey: waiting for the first token; blue: tokens arriving (a tick each) until the "
            "stream ended. The top lines are the clients that left after a few tokens: an "
            "orange cross where the client closed the connection, then red until the model "
            "API saw its stream closed (a dot), or to the right edge if it never did: the "
            "model writing tokens nobody reads."
        )
    waited = verdict.metrics.get("waited_ms")
    stopped = (
        f" ({waited / 1000:.1f} s after its first request)"
        if isinstance(waited, int | float)
        else ""
    )
    return wrap(
        "How to read the timeline: one bar per request the grader sent, from when it was "
        "sent (left end) to when your service answered (right end). Blue: answered. Red: "
        "answered with an error status. Grey: no answer; the grader stopped waiting "
        f"there{stopped}, or the connection broke. Bars of equal length side by side: "
        "requests served at the same time; a staircase: served one after another."
        + (
            " Dashed lines: what the grader did to your service (a SIGKILL, a SIGTERM) and "
            "when it served again; ticks under the bars: each email the SMTP server accepted."
            if verdict.metrics.get("events")
            else ""
        )
    )


def blocking_line(diagnosis: str, code: str | None) -> str:
    """The diagnosis, and when it names a line of the service, that line in its source."""
    m = BLAMED_LINE.match(diagnosis)
    if m is None or code is None:
        return wrap(f"What blocked the event loop: {diagnosis}")
    line = int(m["line"])
    lines = code.splitlines()
    head = (
        f"The line that blocked the event loop: line {line} of {m['file']} (the cell's "
        f"code below its %%writefile line), in {m['func']}():"
    )
    shown = []
    for n in range(max(1, line - CONTEXT), min(len(lines), line + CONTEXT) + 1):
        mark = ">" if n == line else " "
        shown.append(f"{mark} {n:4d} | {lines[n - 1]}")
    if not shown:  # the line is not in this code: say what the grader saw
        shown = [f">  {line:4d} | {m['code']}"]
    return wrap(head) + "\n\n" + "\n".join(shown)


def _stream(name: str, text: str) -> Any:
    import nbformat.v4 as v4

    return v4.new_output("stream", name=name, text=text.rstrip("\n") + "\n")


def check_outputs(verdict: Verdict, name: str) -> list[Any]:
    """One test cell's outputs: passed on stdout; failed (0 points) on stderr."""
    found = [c for c in verdict.checks if c.name == name]
    if not found:
        return [_failed(name, "the grader reported no such check")]
    c = found[0]
    if c.passed:
        return [_stream("stdout", f"{GREEN}✓ {name}: passed{RESET}\n" + wrap(c.message))]
    return [_failed(name, c.message)]


def _failed(name: str, message: str) -> Any:
    return _stream("stderr", f"{RED}✗ {name}: failed{RESET}\n" + wrap(message))


def service_outputs(verdict: Verdict, code: str | None) -> list[Any]:
    """The app cell's outputs: the blocking line with its source, then the timeline."""
    import nbformat.v4 as v4

    outputs = []
    if verdict.diagnosis:
        outputs.append(_stream("stdout", blocking_line(verdict.diagnosis, code)))
    png = timeline_png(verdict)
    if png is None:
        outputs.append(_stream("stdout", "No timeline: the grader sent no request to a service."))
    else:
        import base64

        outputs.append(
            v4.new_output(
                "display_data",
                data={
                    "image/png": base64.b64encode(png).decode(),
                    "text/plain": "<request timeline>",
                },
            )
        )
        outputs.append(_stream("stdout", timeline_caption(verdict)))
    return outputs


def fill(nb: Any, verdict: Verdict, code: str | None, app_id: str | None) -> None:
    """Write ``verdict`` into the notebook: the app cell (the cell whose nbformat id is
    ``app_id``: nbgrader's sanitizing drops its grade_id) and every test cell."""
    import nbformat.v4 as v4

    styled = False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        grade_id = str(meta.get("grade_id", ""))
        if app_id is not None and cell.get("id") == app_id and code is not None:
            cell.outputs = service_outputs(verdict, code)
        elif meta.get("grade") and grade_id.startswith(CHECK_PREFIX):
            cell.outputs = check_outputs(verdict, grade_id.removeprefix(CHECK_PREFIX))
        elif meta.get("grade"):  # a test cell this course did not write: no point from it
            cell.outputs = [_failed(grade_id, "not a check of this exercise")]
        else:
            cell.outputs = []
        if cell.outputs and not styled:
            cell.outputs.insert(0, v4.new_output("display_data", data={"text/html": STYLE}))
            styled = True
        cell.execution_count = None
