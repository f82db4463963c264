"""The pictures, drawn from synthetic bursts: the artists and labels a learner reads."""

from __future__ import annotations

from matplotlib.colors import to_hex

from autograder.lab import plots
from autograder.measure.burst import Burst
from autograder.measure.load import Request, Response


def resp(start: float, end: float | None, status: int | None = 200) -> Response:
    return Response(Request("GET", "/r"), start=start, end=end, status=status if end else None)


def burst(*, probe: str | None) -> Burst:
    responses = [resp(0.0, 0.3 * (i + 1)) for i in range(4)] + [
        resp(0.0, 0.5, 500),
        resp(0.0, None),
    ]
    probes = [resp(0.02 * i, 0.02 * i + 0.004) for i in range(10)] if probe else []
    return Burst(responses, probes, started=0.0, finished=1.2, probe_path=probe)


def bar_colours(ax) -> list[str]:
    return [to_hex(p.get_facecolor()) for p in ax.patches]


def test_a_burst_without_probes_is_one_timeline():
    fig = plots.burst_figure(burst(probe=None), "6 x GET /r")
    (ax,) = fig.axes
    assert ax.get_title() == "6 x GET /r"
    assert len(ax.patches) == 6  # one bar per request
    assert ax.get_xlabel() == "time since the first request was sent (ms)"


def test_a_probed_burst_has_the_probe_trace_below_on_the_same_time_axis():
    fig = plots.burst_figure(burst(probe="/health"), "timeline")
    top, bottom = fig.axes
    assert top.get_title() == "timeline" and bottom.get_title() == "/health latency"
    assert top.get_shared_x_axes().joined(top, bottom)
    (trace,) = bottom.get_lines()[:1]
    assert len(trace.get_xdata()) == 10
    assert [round(y, 1) for y in trace.get_ydata()] == [4.0] * 10  # latency in ms
    assert bottom.get_legend() is not None  # the limit line is labelled
    assert bottom.get_xlabel() == "time since the first request was sent (ms)"


def test_the_probe_trace_is_titled_after_what_was_probed():
    assert plots.burst_figure(burst(probe="loop"), "t").axes[1].get_title() == "Loop probe latency"
    custom = plots.burst_figure(burst(probe="/health"), "t", probe_title="shop /health")
    assert custom.axes[1].get_title() == "shop /health"


def test_timeline_colours_answered_failed_and_unanswered_requests():
    ax = plots.timeline(burst(probe=None).responses)
    colours = bar_colours(ax)
    # sorted by finish: the four answered, the 500, then the unanswered one last
    assert colours.count(plots.OK_COLOUR) == 4
    assert colours.count(plots.BAD_COLOUR) == 1
    assert colours[-1] == plots.PENDING_COLOUR
    # the unanswered bar runs to the last answer (1200 ms)
    assert ax.patches[-1].get_width() == 1200.0


def test_timeline_from_a_verdicts_metrics_uses_the_cut_off():
    bars = [
        {"start_ms": 0.0, "end_ms": 300.0, "status": 200},
        {"start_ms": 0.0, "end_ms": None, "status": None},
    ]
    ax = plots.timeline(bars, title="verdict", cut_off_ms=1100.0)
    assert ax.get_title() == "verdict"
    assert [p.get_width() for p in ax.patches] == [300.0, 1100.0]


def test_lag_samples_are_stems_in_milliseconds():
    ax = plots.lag_samples([(1.0, 0.012), (1.5, 0.3)])
    (stems,) = ax.collections
    segments = stems.get_segments()
    assert [(round(s[0][0]), round(s[1][1])) for s in segments] == [(0, 12), (500, 300)]


def test_png_is_a_png():
    data = plots.png(plots.burst_figure(burst(probe="loop"), "t"), dpi=40)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")


def test_a_crash_timeline_marks_what_the_grader_did_and_each_email():
    bars = [{"start_ms": 0.0, "end_ms": 2.0, "status": 202}, {"start_ms": 30.0, "end_ms": 31.0, "status": 202}]
    events = [{"at_ms": 400, "what": "SIGKILL"}, {"at_ms": 1200, "what": "serving again"}]
    ax = plots.timeline(bars, events=events, emails_ms=[300, 1500])
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert sorted(line.get_xdata()[0] for line in dashed) == [400, 1200]
    assert [t.get_text() for t in ax.texts] == ["SIGKILL", "serving again"]
    ticks = [line for line in ax.get_lines() if line.get_marker() == "|"]
    assert list(ticks[0].get_xdata()) == [300, 1500]
    assert ax.get_xlim()[1] >= 1500  # the axis spans the whole crash, not the requests only
