"""The record the runner hands the sandbox survives its trip through JSON."""

from __future__ import annotations

import pytest

from autograder.sandbox.spec import SandboxSpec

SPEC = SandboxSpec(
    control_fd=7,
    workdir="/tmp/autograder-x",
    home="/tmp/autograder-x/home",
    deps_argv=("python", "-m", "autograder.servers.process"),
    deps_env={"PATH": "/usr/bin"},
    deps_log="/tmp/autograder-x/depservers.log",
    app_argv=("python", "-m", "autograder.harness.serve", "app.py"),
    app_env={"PATH": "/usr/bin", "AUDIT_LOG": "/tmp/autograder-x/audit.log"},
    app_fds=(3, 5),
    output_fd=9,
    uid=1_600_000_000,
    nproc=True,
    cgroup_fds=(11, 12),
)


def test_round_trip():
    assert SandboxSpec.from_json(SPEC.to_json()) == SPEC


def test_defaults_round_trip():
    bare = SandboxSpec(7, "/w", "/w/home", ("d",), {}, "/w/d.log", ("a",), {}, (3,), 9)
    back = SandboxSpec.from_json(bare.to_json())
    assert back == bare and back.uid is None and back.cgroup_fds == ()


def test_an_unknown_field_is_refused():
    with pytest.raises(ValueError, match="unknown sandbox spec fields"):
        SandboxSpec.from_json(SPEC.to_json()[:-1] + ', "surprise": 1}')
