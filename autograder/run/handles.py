"""The grader's handles on one grading run: its processes and its files.

A :class:`Run` is what :func:`autograder.run.runner.running` yields: the submission's port,
its process (as the sandbox's supervisor reports it), the dependency servers' command
pipe, and the run's directory, where the submission's output, the harness's report and
the dependency servers' audit log are written.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.run.slots import Slot
from autograder.sandbox.cgroups import Cgroups

OUTPUT_TAIL = 4000
# Every process of a grading run carries this variable (the run's token): strays are found by it.
RUN_TOKEN_VAR = "AUTOGRADER_RUN"
# Passed on from the grader's environment to every process of a run, when set: whoever
# starts gradings (a test session) can tell its own runs' processes from other ones'.
OWNER_VAR = "AUTOGRADER_OWNER"


class SubmissionFailed(Exception):
    """The submission never got to serve: import error, no app, crash, hang."""


@dataclass
class DepServers:
    """Grader-side handle on the dependency-servers process (commands on its stdin)."""

    process: asyncio.subprocess.Process
    upstream_port: int
    smtp_port: int
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def upstream_url(self) -> str:
        return f"http://127.0.0.1:{self.upstream_port}"

    async def command(self, cmd: str) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        async with self._lock:
            self.process.stdin.write(json.dumps({"cmd": cmd}).encode() + b"\n")
            await self.process.stdin.drain()
            line = await asyncio.wait_for(self.process.stdout.readline(), 10)
        if not line:
            raise RuntimeError("the dependency servers stopped unexpectedly")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def stats(self) -> dict[str, Any]:
        return await self.command("stats")


class AppProcess:
    """The submission's process as the grader sees it: through the supervisor's reports."""

    def __init__(self) -> None:
        self.pid: int | None = None  # inside the sandbox's PID namespace, when there is one
        self.returncode: int | None = None
        self._exited = asyncio.Event()

    def exited(self, code: int) -> None:
        if self.returncode is None:
            self.returncode = code
        self._exited.set()

    async def wait(self) -> int:
        await self._exited.wait()
        assert self.returncode is not None
        return self.returncode


@dataclass
class Run:
    """One grading run's processes and files."""

    app_file: Path
    workdir: Path
    token: str
    app_port: int = 0
    deps: DepServers | None = None
    app_process: AppProcess | None = None
    supervisor: asyncio.subprocess.Process | None = None
    status: list[dict[str, Any]] = field(default_factory=list)  # the harness's status lines
    started: float = field(default_factory=time.monotonic)
    slot: Slot | None = None
    uid: int | None = None  # the submission's own uid, when the grader can give it one
    cgroups: Cgroups | None = None
    hit_process_limit: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)  # settings the app needs (scan)
    harness_args: tuple[str, ...] = ()  # what to serve, if not APP_FILE's `app` (scan)
    reachable: tuple[str, ...] = ()  # folders the app imports from (scan)
    python: str | None = None  # the app's own interpreter (scan; None: the engine's)
    runtime: tuple[str, ...] = ()  # that interpreter's folders, shown read-only as they are
    noun: str = "the submission"  # what messages call the app ("the app" for a scan)
    network: bool = False  # the machine's network stays reachable (scan --network only)
    app_cwd: str | None = None  # where the app runs, if not its home (scan: where uvicorn would)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)  # cancelled when it stops
    # A restartable run (``restart.py``): the grader's end of the supervisor's command
    # socket, and the harness's present status stream (fed EOF when the app exits).
    restartable: bool = False
    restart_channel: socket.socket | None = None
    status_stream: asyncio.StreamReader | None = None

    @property
    def audit_log(self) -> Path:
        return self.workdir / "audit.log"

    @property
    def report_file(self) -> Path:
        return self.workdir / "report.jsonl"

    @property
    def output_file(self) -> Path:
        return self.workdir / "output.log"

    @property
    def jobs_dir(self) -> Path:
        """A restartable run's state directory (``JOBS_DIR``): it survives the restarts."""
        return self.workdir / "jobs"

    @property
    def home(self) -> Path:
        """The submission's working directory (the only one it may write to)."""
        return self.workdir / "home"

    def report(self) -> list[dict[str, Any]]:
        """What the harness observed inside the submission's process (explains, never decides)."""
        records = []
        with contextlib.suppress(OSError):
            for line in read_own(self.report_file).splitlines():
                with contextlib.suppress(ValueError):
                    records.append(json.loads(line))
        return records

    def output_tail(self) -> str:
        """The last lines the submission printed (stdout and stderr)."""
        try:
            with open(self.output_file, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(size - OUTPUT_TAIL, 0))
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def app_alive(self) -> bool:
        return self.app_process is not None and self.app_process.returncode is None


def read_own(path: Path) -> str:
    """Read a file the submission may write to, never through a link it planted."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with open(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        return f.read().decode(errors="replace")
