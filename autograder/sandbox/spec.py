"""What the grader tells the sandbox's supervisor to start: one typed record, sent as JSON.

The runner builds a :class:`SandboxSpec` and passes it on the supervisor's command line
(``python -m autograder.sandbox.supervisor SPEC_JSON``); the supervisor reads it back with
:meth:`SandboxSpec.from_json`. Both sides import this module only, so a field added on
one side is seen (and type-checked) on the other.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SandboxSpec:
    control_fd: int  # the supervisor reports ports, the app's pid and exit status here
    workdir: str  # the run's directory (the grader's)
    home: str  # the submission's home (its own, writable)
    deps_argv: tuple[str, ...]  # the dependency servers' command (their sockets are added)
    deps_env: dict[str, str]
    deps_log: str  # the dependency servers' stderr
    app_argv: tuple[str, ...]  # the harness's command (``autograder.harness.serve``)
    app_env: dict[str, str]
    app_fds: tuple[int, ...]  # inherited by the harness: its listening socket, status pipe
    output_fd: int  # the submission's stdout and stderr
    uid: int | None = None  # the submission's own uid, when the grader can give it one
    nproc: bool = False  # RLIMIT_NPROC counts this run's tasks only: set it
    # cgroup.procs files opened by the grader (the sandbox has no /sys): the submission
    # joins them by writing to these descriptors
    cgroup_fds: tuple[int, ...] = field(default=())
    # A restartable run: the grader's end of a socket pair on which it asks the supervisor
    # to signal the submission or start it again (``sandbox/restarts.py``).
    restart_fd: int | None = None
    app_cwd: str | None = None  # the app's working directory, if not ``home`` (a scan's)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> SandboxSpec:
        data = json.loads(text)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown sandbox spec fields: {sorted(unknown)}")
        for key in ("deps_argv", "app_argv", "app_fds", "cgroup_fds"):
            if key in data:
                data[key] = tuple(data[key])
        return cls(**data)
