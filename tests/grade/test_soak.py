"""Ten gradings in a row, in this process, leave no descriptor, socket, process, directory,
cgroup or run slot behind (benchmarks/soak.py runs the 100-grading version)."""

from __future__ import annotations

import importlib.util

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def _soak_module():
    spec = importlib.util.spec_from_file_location("soak", ROOT / "benchmarks" / "soak.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ten_gradings_leave_nothing_behind():
    soak = _soak_module()
    before, after = soak.soak(10, report=False)
    assert soak.leftovers(before, after) == {}
    assert after["grading_processes"] == 0 and after["child_processes"] == 0
