"""``python -m autograder scan ... --json`` as a user runs it, for the scan's tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT


def scan_json(
    *args: str, cwd: Path = ROOT, wait_at_most: float = 150
) -> tuple[int, dict, str, float]:
    """(exit status, the JSON it printed ({} if none), its stderr, seconds it took)."""
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "scan", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=wait_at_most,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    out = json.loads(done.stdout) if done.stdout else {}
    return done.returncode, out, done.stderr, time.monotonic() - t0
