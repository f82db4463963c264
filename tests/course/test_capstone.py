"""The capstone's bookshop (notebook 11): the scan finds its three stalls, and only them.

The untouched service (course/apps/nb11_bookshop.py) has three problems of different
kinds: an ``async def`` dependency that calls a sync HTTP client, a middleware that
sends a mail synchronously on ``/admin`` paths, and a warehouse client whose pool admits
four connections. The reference answer (course/_answers/11-bookshop.py) fixes all three.
Both are scanned through the command line, as a learner would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

STARTER = ROOT / "course" / "apps" / "nb11_bookshop.py"
ANSWER = ROOT / "course" / "_answers" / "11-bookshop.py"
PROBLEMS = {  # route: (verdict, the function whose line blocks the loop, text on that line)
    ("GET", "/delivery/{city}"): ("blocks-loop", "conditions", "urllib.request.urlopen("),
    ("GET", "/admin/sales"): ("blocks-loop", "record", "relay.send_message("),
    ("GET", "/books/{book_id}/stock"): ("pool-queued", None, None),
}
CLEAN = [
    ("GET", p)
    for p in (
        "/health",
        "/books",
        "/books/{book_id}",
        "/authors/{author_id}",
        "/search",
        "/bestsellers",
    )
]


def scan(path: Path, *args: str) -> tuple[int, dict]:
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "scan", str(path), "--json", *args],
        capture_output=True,
        text=True,
        timeout=150,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def line(path: Path, text: str) -> tuple[int, str]:
    [found] = [(n, t.strip()) for n, t in enumerate(path.read_text().splitlines(), 1) if text in t]
    return found


@pytest.mark.slow
def test_the_scan_finds_the_three_stalls_and_flags_no_clean_route(tmp_path):
    html = tmp_path / "report.html"
    code, out = scan(STARTER, "--html", str(html))
    routes = {(r["method"], r["path"]): r for r in out["routes"]}
    assert set(routes) == {*PROBLEMS, *CLEAN, ("POST", "/orders")}, sorted(routes)
    for key, (verdict, func, text) in PROBLEMS.items():
        got = routes[key]
        assert got["verdict"] == verdict, json.dumps(got, indent=1)[:2000]
        if func is None:
            assert got["diagnosis"] is None
        else:
            number, source = line(STARTER, text)
            assert got["diagnosis"] == f"{STARTER.name}:{number} in {func}: {source}", got
    for key in CLEAN:
        assert routes[key]["verdict"] == "fine", json.dumps(routes[key], indent=1)[:2000]
        assert routes[key]["diagnosis"] is None
    assert routes["POST", "/orders"]["verdict"] == "skipped"
    # the ceiling is the warehouse client's four connections, measured from outside
    assert 3 <= routes["GET", "/books/{book_id}/stock"]["figures"]["parallelism"] <= 5
    assert code == 1 and out["ok"] is False
    assert html.read_text().count("data:image/png;base64,") == len(PROBLEMS) + len(CLEAN)
    print(f"starter: {out['scan_s']} s scanning")


@pytest.mark.slow
def test_the_reference_answer_is_fine_on_every_route():
    code, out = scan(ANSWER)
    verdicts = {(r["method"], r["path"]): r["verdict"] for r in out["routes"]}
    assert verdicts == {**{k: "fine" for k in [*PROBLEMS, *CLEAN]}, ("POST", "/orders"): "skipped"}
    assert code == 0 and out["ok"] is True
    print(f"reference: {out['scan_s']} s scanning")
