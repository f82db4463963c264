"""Sharing a class among grading machines. Two shards graded and merged into the one
gradebook, end to end, is part of the exchange's round trip (``test_classroom_exchange.py``):
it grades the same class once instead of twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.classroom.shards import parse, share
from tests.conftest import ROOT


def test_shares_cover_the_class_once():
    todo = [("a", f"s{i}") for i in range(7)]
    shares = [share(todo, f"{k}/3") for k in (1, 2, 3)]
    assert sorted(x for s in shares for x in s) == todo
    assert [len(s) for s in shares] == [3, 2, 2]
    for bad in ("0/2", "3/2", "1", "a/b"):
        with pytest.raises(ValueError, match="K/N"):
            parse(bad)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    scripts = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")]),
    }
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
    )


def test_a_wrong_shard_is_a_usage_error(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("")
    done = cli(
        "-m", "autograder", "classroom", "autograde", "--course", str(tmp_path), "--shard", "3/2"
    )
    assert done.returncode == 2 and "K/N" in done.stderr
