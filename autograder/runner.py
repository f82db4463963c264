"""Start a submission and its dependency servers, each in a process of its own; stop them all.

Both processes start side by side: the grader binds their listening sockets first and
hands them over, so every port is known before either process runs and the dependency
servers come up while the submission is still importing FastAPI.

Cleanup does not trust the submission: its process starts a new session (process
group), every process it starts carries a run token in its environment, and at the end
the grader kills the group, every descendant it can see, and every process that carries
the token, then removes the temporary directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from autograder import environment

log = logging.getLogger(__name__)

IMPORT_TIMEOUT = 20.0
READY_TIMEOUT = 25.0
OUTPUT_TAIL = 4000
RUN_TOKEN_VAR = "AUTOGRADER_RUN"


class SubmissionFailed(Exception):
    """The submission never got to serve: import error, no app, crash, hang."""


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


@dataclass
class DepServers:
    """Grader-side handle on the dependency-servers process."""

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
        return json.loads(line)

    async def stats(self) -> dict[str, Any]:
        return await self.command("stats")


@dataclass
class Run:
    """One grading run's processes and files."""

    app_file: Path
    workdir: Path
    token: str
    app_port: int = 0
    deps: DepServers | None = None
    app_process: asyncio.subprocess.Process | None = None
    status: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    @property
    def audit_log(self) -> Path:
        return self.workdir / "audit.log"

    @property
    def report_file(self) -> Path:
        return self.workdir / "report.jsonl"

    @property
    def output_file(self) -> Path:
        return self.workdir / "output.log"

    def report(self) -> list[dict[str, Any]]:
        """What the harness observed inside the submission's process (explains, never decides)."""
        records = []
        with contextlib.suppress(OSError):
            for line in self.report_file.read_text(errors="replace").splitlines():
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


def _log_file(path: Path):
    return open(path, "wb")  # noqa: SIM115 (handed to a child process, closed after spawn)


def _child_env(run: Run, extra: dict[str, str]) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(run.workdir),
        "TMPDIR": str(run.workdir),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        RUN_TOKEN_VAR: run.token,
    }
    env.update(environment.child_environment())
    env.update(extra)
    return env


async def _start_deps(run: Run) -> DepServers:
    up_sock, smtp_sock = _listening_socket(), _listening_socket()
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "autograder.depservers",
            "--upstream-fd",
            str(up_sock.fileno()),
            "--smtp-fd",
            str(smtp_sock.fileno()),
            "--audit-log",
            str(run.audit_log),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=_log_file(run.workdir / "depservers.log"),
            pass_fds=(up_sock.fileno(), smtp_sock.fileno()),
            env=_child_env(run, {}),
            cwd=run.workdir,
            start_new_session=True,
        )
        return DepServers(process, up_sock.getsockname()[1], smtp_sock.getsockname()[1])
    finally:
        up_sock.close()
        smtp_sock.close()


async def _start_app(run: Run, deps: DepServers) -> asyncio.StreamReader:
    app_sock = _listening_socket()
    status_r, status_w = os.pipe()
    try:
        env = _child_env(
            run,
            {
                "UPSTREAM_URL": deps.upstream_url,
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(deps.smtp_port),
                "AUDIT_LOG": str(run.audit_log),
            },
        )
        output = _log_file(run.output_file)
        run.app_process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "autograder.serve",
            str(run.app_file),
            "--fd",
            str(app_sock.fileno()),
            "--status-fd",
            str(status_w),
            "--report",
            str(run.report_file),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
            pass_fds=(app_sock.fileno(), status_w),
            env=env,
            cwd=run.workdir,
            start_new_session=True,
            preexec_fn=environment.apply_limits,
        )
        output.close()
        run.app_port = app_sock.getsockname()[1]
    finally:
        app_sock.close()
        os.close(status_w)
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(status_r, "rb", buffering=0)
    )
    return reader


async def _wait_ready(run: Run, status: asyncio.StreamReader) -> None:
    """Read the harness's status lines until ``ready``; explain any other ending."""
    assert run.app_process is not None
    deadline = time.monotonic() + READY_TIMEOUT
    imported = False
    while True:
        budget = deadline - time.monotonic()
        if not imported:
            budget = min(budget, IMPORT_TIMEOUT - (time.monotonic() - run.started))
        try:
            line = await asyncio.wait_for(status.readline(), max(budget, 0.01))
        except TimeoutError:
            what = "finish importing" if not imported else "start serving"
            limit = IMPORT_TIMEOUT if not imported else READY_TIMEOUT
            raise SubmissionFailed(
                f"the submission did not {what} within {limit:.0f} s "
                "(an endless loop or a blocking call at import or in the lifespan?)"
            ) from None
        if not line:
            code = await run.app_process.wait()
            raise SubmissionFailed(_death_message(run, code, before_ready=True))
        try:
            event = json.loads(line)
        except ValueError:
            continue
        run.status.append(event)
        if event.get("event") == "imported":
            imported = True
        elif event.get("event") == "ready":
            return
        elif event.get("event") == "error":
            detail = event.get("traceback", "")
            raise SubmissionFailed(event["message"] + (f"\n{detail}" if detail else ""))


def _death_message(run: Run, code: int, *, before_ready: bool) -> str:
    errors = [e["message"] for e in run.status if e.get("event") == "error"]
    if errors:
        return errors[-1]
    when = "before it was ready to serve" if before_ready else "while it was being graded"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        how = f"was killed by {name}"
        if -code == signal.SIGXFSZ:
            how += f" (it wrote more than {environment.LIMITS['output_mib']} MiB of output)"
        elif -code == signal.SIGXCPU:
            how += f" (it used more than {environment.LIMITS['cpu_seconds']} s of CPU)"
    else:
        how = f"exited with status {code}"
    tail = run.output_tail().strip()
    return f"the submission's process {how} {when}" + (
        f"; its last output:\n{tail}" if tail else ""
    )


def _new_run(app_file: Path) -> Run:
    return Run(
        app_file=app_file.resolve(),
        workdir=Path(tempfile.mkdtemp(prefix="autograder-")),
        token=uuid.uuid4().hex,
    )


@contextlib.asynccontextmanager
async def running(app_file: Path):
    """Serve ``app_file`` beside fresh dependency servers; always stop and clean up.

    Raises :class:`SubmissionFailed` when the submission cannot serve.
    """
    run = _new_run(app_file)
    try:
        run.audit_log.touch()
        run.deps = await _start_deps(run)
        status = await _start_app(run, run.deps)
        ready_deps = asyncio.create_task(_deps_ready(run.deps))
        try:
            await _wait_ready(run, status)
            await ready_deps
        finally:
            ready_deps.cancel()
        log.info(
            "submission ready after %.2f s on port %d", time.monotonic() - run.started, run.app_port
        )
        yield run
    finally:
        await stop(run)


async def _deps_ready(deps: DepServers) -> None:
    assert deps.process.stdout is not None
    line = await asyncio.wait_for(deps.process.stdout.readline(), READY_TIMEOUT)
    if not json.loads(line or b"{}").get("ready"):
        raise RuntimeError("the dependency servers failed to start")


async def stop(run: Run) -> None:
    """Kill everything the run started (whatever the submission did) and remove its files."""
    own = [p for p in (run.app_process, run.deps.process if run.deps else None) if p is not None]
    strays: set[psutil.Process] = set()
    for proc in own:
        strays |= kill_tree(proc.pid)
    strays |= kill_carrying(run.token)
    for proc in own:  # our own children: reaped by asyncio, not by psutil
        with contextlib.suppress(ProcessLookupError, TimeoutError):
            await asyncio.wait_for(proc.wait(), 5)
    own_pids = {p.pid for p in own}
    await asyncio.to_thread(_wait_gone, {p for p in strays if p.pid not in own_pids})
    shutil.rmtree(run.workdir, ignore_errors=True)


def kill_tree(pid: int) -> set[psutil.Process]:
    """SIGKILL a process, its process group and every descendant it still has."""
    victims: set[psutil.Process] = set()
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        victims.update(root.children(recursive=True))
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)  # the group: its new session made pid the leader
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    for p in victims:
        with contextlib.suppress(psutil.Error):
            p.kill()
    return victims


def kill_carrying(token: str) -> set[psutil.Process]:
    """SIGKILL every process whose environment carries the run's token (escapees included)."""
    found = set()
    me = os.getpid()
    for p in psutil.process_iter():
        if p.pid == me:
            continue
        with contextlib.suppress(psutil.Error):
            if p.environ().get(RUN_TOKEN_VAR) == token:
                p.kill()
                found.add(p)
    return found


def _wait_gone(procs: set[psutil.Process], timeout: float = 3.0) -> None:
    """Wait until every process is dead (a zombie counts as dead: it runs no code)."""
    deadline = time.monotonic() + timeout
    for p in procs:
        while time.monotonic() < deadline:
            try:
                if p.status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.Error:
                break
            time.sleep(0.01)
