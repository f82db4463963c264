"""What a learner reads on the lessons' pictures does not collide: labels, legends and
titles measured as drawn (their rendered extents), from synthetic runs."""

from __future__ import annotations

import sys

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from autograder.lab import crashdrill, plots
from tests.conftest import ROOT
from tests.lab.test_crashdrill import drill, mail
from tests.lab.test_plots import resp

sys.path.insert(0, str(ROOT / "course"))  # the course's helpers, as a notebook imports them
import _pictures  # noqa: E402

from autograder.measure.burst import Burst  # noqa: E402


def drawn(fig: Figure) -> FigureCanvasAgg:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas


def overlap(a: Bbox, b: Bbox) -> bool:
    return a.overlaps(b) and a.intersection(a, b) is not None and a.intersection(a, b).width > 0


def test_never_labels_of_the_crash_drill_summary_stay_apart_and_under_the_title():
    never = drill({"a-00": [mail("a-00", 9.8)]})  # two of three emails never came
    done = drill({i: [mail(i, 11.0 + n)] for n, i in enumerate(["a-00", "a-01", "a-02"])})
    fig = crashdrill.summary_figure([never, never, done, never])
    renderer = drawn(fig).get_renderer()
    right = fig.axes[1]
    labels = [t for t in right.texts if t.get_text().startswith("never")]
    assert len(labels) == 3
    boxes = [t.get_window_extent(renderer) for t in labels]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not overlap(a, b), (a, b)
        assert not overlap(a, right.title.get_window_extent(renderer))
        assert right.bbox.contains(a.x0, a.y1) and right.bbox.contains(a.x1, a.y0)  # inside the plot


def test_the_limiter_legend_covers_none_of_the_lines():
    responses = [resp(0.0, 0.3 * (1 + i // 40)) for i in range(100)]
    trace = [(t / 100, min(40, t), 42) for t in range(0, 100)]
    run = {"burst": Burst(responses, started=0.0, finished=0.9),
           "limiter": {"total_tokens": 40, "trace": trace}}
    fig = _pictures.limiter_figure(run, "100 lookups")  # type: ignore[arg-type]
    renderer = drawn(fig).get_renderer()
    bottom = fig.axes[1]
    legend = bottom.get_legend().get_window_extent(renderer)
    assert not overlap(legend, bottom.bbox), "the legend sits on the plot area, over the lines' end"


def test_the_bar_colours_legend_names_the_colours_the_timeline_draws():
    fig = Figure()
    ax = fig.add_subplot()
    plots.timeline([resp(0.0, 0.1), resp(0.0, 0.5, 504), resp(0.0, None)], ax=ax, cut_off_ms=900)
    ax.axvline(300, linestyle=":", label="limit (300 ms)")
    plots.legend_with_bar_colours(ax, ok="200", error="504 (deadline passed)")
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["limit (300 ms)", "200", "504 (deadline passed)"]
    drawn_colours = {to_hex(p.get_facecolor()) for p in ax.patches}
    named = [to_hex(h.get_facecolor()) for h in legend.legend_handles[1:]]
    assert named == [plots.OK_COLOUR, plots.BAD_COLOUR] and set(named) <= drawn_colours


def _listener_run(kind: str, n: int, answered: int) -> dict:
    health = {"p50_ms": 2.0, "p95_ms": 3.0 if answered else 880.0, "probes": 30, "answered": answered}
    return {"trace": [{"streams": s, "rss": 50 * 2**20 + s * 45 * 1024} for s in (0, n // 3, n)],
            "health": {0: {**health, "p95_ms": 2.0, "answered": 30}, n: health},
            "health_after_leaving": health, "kb_per_stream": 45.0}


def test_the_listeners_figure_names_each_health_bar_and_the_memory_slope():
    fig = _pictures.listeners_figure({"async": _listener_run("async", 300, 30), "sync": _listener_run("sync", 50, 0)})
    drawn(fig)
    left, right = fig.axes
    assert "45 KB per stream" in left.get_legend().get_texts()[0].get_text()
    labels = [t.get_text() for t in right.get_yticklabels()]
    assert len(labels) == 6 and "sync: 50 open\n(0/30 answered)" in labels, labels


def test_the_relays_legend_covers_no_bar():
    def rows(wasted: int) -> list[dict]:
        return [{"model_tokens": 5 + wasted, "wasted": wasted} for _ in range(4)]

    runs = {"a": {"rows": rows(0)}, "b": {"rows": rows(1)}, "c": {"rows": rows(75)}, "d": {"rows": rows(75)}}
    fig = _pictures.relays_figure(runs, {k: k.upper() for k in runs})
    renderer = drawn(fig).get_renderer()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent(renderer)
    bars = [p.get_window_extent(renderer) for p in ax.patches if p.get_width() > 0]
    assert bars and not any(overlap(legend, b) for b in bars)


def test_the_rooms_figure_draws_one_members_panel_per_run():
    def run(stalled: bool) -> dict:
        healthy = {"role": "healthy", "received_ms": [10, 60, 7600], "ended_ms": None}
        slow = {"role": "stalled", "received_ms": [7610, 7620], "ended_ms": 7630, "close_code": 1011}
        return {"members": ([slow] if stalled else []) + [healthy] * 3, "published_ms": [0, 50, 100],
                "resumed_ms": 7600 if stalled else None}

    fig = _pictures.rooms_figure({"alone": run(False), "stalled": run(True)}, {"alone": "A", "stalled": "B"})
    drawn(fig)
    assert [ax.get_title() for ax in fig.axes] == ["A", "B"]
    assert fig.axes[1].get_xlim()[1] >= 7630  # the stalled member's end is in the picture
