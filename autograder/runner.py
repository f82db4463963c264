"""Start a submission and its dependency servers in a sandbox; stop them all, whatever they did.

The grader binds the submission's listening socket and starts a small supervisor
(``sandbox.py``), inside fresh PID, network and mount namespaces when the machine allows.
The supervisor binds the dependency servers' sockets inside the sandbox (the submission
sees only that loopback), reports their ports on a control pipe and starts both processes
side by side: the dependency servers come up while the submission is still importing
FastAPI. The grader talks to the dependency servers through pipes only, and to the
submission through the socket it bound (a socket keeps the namespace it was made in).

The submission runs as a uid of its own (when the grader is root), in pids and memory
cgroups (when the machine has them), under rlimits, in a working directory of its own.

Cleanup does not trust the submission: killing the namespace's init kills everything in
it. Without namespaces the supervisor is a child subreaper that kills every descendant,
and the grader still kills the cgroups' tasks, the process groups, every descendant it
can see and every process that carries the run's token, then removes the directory.

Each run holds a slot (an flock'd file in a runtime directory) for its lifetime: it
gives the run its uid and lets a grader warn when another grading run is active.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import shutil
import signal
import stat
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from autograder import environment
from autograder.sandbox import Cgroups, die_with_parent, listening_socket

log = logging.getLogger(__name__)

IMPORT_TIMEOUT = 20.0
READY_TIMEOUT = 25.0
OUTPUT_TAIL = 4000
RUN_TOKEN_VAR = "AUTOGRADER_RUN"
MAX_SLOTS = 64
RUNTIME_DIR = (
    Path("/run/autograder")
    if os.geteuid() == 0 and Path("/run").is_dir()
    else Path(tempfile.gettempdir()) / f".autograder-runs-{os.getuid()}"
)


class SubmissionFailed(Exception):
    """The submission never got to serve: import error, no app, crash, hang."""


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
    status: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    slot: int | None = None
    uid: int | None = None  # the submission's own uid, when the grader can give it one
    cgroups: Cgroups | None = None
    hit_process_limit: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)  # settings the app needs (scan)
    harness_args: tuple[str, ...] = ()  # what to serve, if not APP_FILE's `app` (scan)
    reachable: tuple[str, ...] = ()  # folders the app imports from (scan)
    _slot_fd: int | None = None
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)

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
    def home(self) -> Path:
        """The submission's working directory (the only one it may write to)."""
        return self.workdir / "home"

    def report(self) -> list[dict[str, Any]]:
        """What the harness observed inside the submission's process (explains, never decides)."""
        records = []
        with contextlib.suppress(OSError):
            for line in _read_own(self.report_file).splitlines():
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


def host_app_processes(run: Run) -> list[psutil.Process]:
    """The submission's harness (and whatever it started) under host pids. Inside the
    sandbox's PID namespace its own pid means nothing here: find it among the
    supervisor's descendants by its command line."""
    if run.supervisor is None:
        return []
    found = []
    with contextlib.suppress(psutil.Error):
        for p in psutil.Process(run.supervisor.pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if "autograder.serve" in p.cmdline():
                    found.append(p)
    return found


def _read_own(path: Path) -> str:
    """Read a file the submission may write to, never through a link it planted."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with open(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        return f.read().decode(errors="replace")


# -- slots: one per active grading run on this machine ---------------------------------------


def _acquire_slot(run: Run) -> None:
    """Hold the first free slot for the run's lifetime (released by the kernel if we die)."""
    RUNTIME_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    for i in range(MAX_SLOTS):
        fd = os.open(RUNTIME_DIR / f"slot-{i}", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        entry = {"pid": os.getpid(), "file": str(run.app_file), "since": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(entry).encode(), 0)
        run.slot, run._slot_fd = i, fd
        return
    raise RuntimeError(f"more than {MAX_SLOTS} grading runs at once on this machine")


def _release_slot(run: Run) -> None:
    if run._slot_fd is not None:
        os.close(run._slot_fd)  # closing drops the lock
        run._slot_fd = None


def active_runs(*, besides: int | None = None) -> list[dict[str, Any]]:
    """The grading runs active on this machine (slots someone holds), but slot ``besides``.

    A slot file nobody holds a lock on is stale (its grader is gone) and is ignored."""
    found = []
    for i in range(MAX_SLOTS):
        path = RUNTIME_DIR / f"slot-{i}"
        if i == besides or not path.exists():
            continue
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:  # held: an active run
            with contextlib.suppress(OSError, ValueError):
                found.append(json.loads(os.pread(fd, 4096, 0)))
        finally:
            os.close(fd)
    return found


def _warn_if_busy(run: Run) -> None:
    others = active_runs(besides=run.slot)
    if others:
        who = ", ".join(
            f"pid {o.get('pid')} grading {Path(str(o.get('file'))).name}" for o in others
        )
        log.warning(
            "another grading run is active on this machine (%s): its load can disturb the "
            "timings of this one",
            who,
        )


# -- the run's files -----------------------------------------------------------------------


def _prepare_files(run: Run) -> None:
    """The run's directory is the grader's; only ``home`` and the files the submission must
    write (audit log, harness report) are the submission's uid's. It cannot replace the
    grader's files there (the directory is not its own) nor read other runs' directories."""
    run.workdir.chmod(0o711)
    run.home.mkdir(mode=0o700)
    for path in (run.audit_log, run.report_file):
        path.touch(mode=0o600)
    run.output_file.touch(mode=0o600)
    if run.uid is not None:
        for path in (run.home, run.audit_log, run.report_file):
            os.chown(path, run.uid, run.uid)


def _readable_by_others(path: Path) -> bool:
    """Can a stranger import ``path`` from its folder (folder listable, file readable)?"""
    try:
        if not path.stat().st_mode & stat.S_IROTH:
            return False
        folder = path.parent
        if folder.stat().st_mode & (stat.S_IROTH | stat.S_IXOTH) != stat.S_IROTH | stat.S_IXOTH:
            return False
        return all(p.stat().st_mode & stat.S_IXOTH for p in folder.parents)
    except OSError:
        return False


def _served_file(run: Run) -> Path:
    """The file the harness imports: the submission itself, or a readable copy of it when
    its own uid could not read it where it is (sibling modules then stay behind)."""
    if run.uid is None or run.reachable or _readable_by_others(run.app_file):
        return run.app_file
    folder = run.workdir / "submission"
    folder.mkdir(mode=0o755)
    copy = folder / run.app_file.name
    shutil.copyfile(run.app_file, copy)
    copy.chmod(0o644)
    return copy


def _child_env(run: Run) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(run.home),
        "TMPDIR": str(run.home),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        RUN_TOKEN_VAR: run.token,
    }
    env.update(environment.child_environment())
    return env


# -- start ----------------------------------------------------------------------------------


async def _start(run: Run) -> asyncio.StreamReader:
    """Start the supervisor; return the harness's status stream once the ports are known."""
    conf = environment.confinement()
    app_sock = listening_socket()
    status_r, status_w = os.pipe()
    control_r, control_w = os.pipe()
    output = os.open(run.output_file, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
    app_file = _served_file(run)
    env = _child_env(run)
    spec = {
        "control_fd": control_w,
        "loopback_up": conf.unshare is not None,
        "expose": [*environment.exposed_paths(), *run.reachable]
        if conf.unshare and run.uid is not None
        else [],
        "workdir": str(run.workdir),
        "home": str(run.home),
        "deps_argv": [
            sys.executable,
            "-m",
            "autograder.depservers",
            "--audit-log",
            str(run.audit_log),
        ],
        "deps_env": env,
        "deps_log": str(run.workdir / "depservers.log"),
        "app_argv": [
            sys.executable,
            "-m",
            "autograder.serve",
            str(app_file),
            "--fd",
            str(app_sock.fileno()),
            "--status-fd",
            str(status_w),
            "--report",
            str(run.report_file),
            *run.harness_args,
        ],
        "app_env": {**run.extra_env, **env, "AUDIT_LOG": str(run.audit_log)},
        "app_fds": [app_sock.fileno(), status_w],
        "output_fd": output,
        "uid": run.uid,
        "cgroup_procs": run.cgroups.procs_files() if run.cgroups else [],
    }
    try:
        run.supervisor = await asyncio.create_subprocess_exec(
            *(conf.unshare or ()),
            sys.executable,
            "-m",
            "autograder.sandbox",
            json.dumps(spec),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=output,
            pass_fds=(app_sock.fileno(), status_w, control_w, output),
            env=env,
            cwd=run.workdir,
            start_new_session=True,  # the grader's own group is not the sandbox's
            preexec_fn=die_with_parent,  # the sandbox does not outlive the grader
        )
        run.app_port = app_sock.getsockname()[1]
    finally:
        for fd in (status_w, control_w, output):
            os.close(fd)
        app_sock.close()
    loop = asyncio.get_running_loop()
    control = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(control), os.fdopen(control_r, "rb", buffering=0)
    )
    status = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(status), os.fdopen(status_r, "rb", buffering=0)
    )
    line = await asyncio.wait_for(control.readline(), READY_TIMEOUT)
    ports = json.loads(line or b"{}").get("ports")
    if not ports:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.supervisor.wait(), 1)
        raise RuntimeError(
            f"the sandbox failed to start (status {run.supervisor.returncode}, said {line!r}): "
            + run.output_tail()[-1000:]
        )
    run.deps = DepServers(run.supervisor, ports["upstream"], ports["smtp"])
    run.app_process = AppProcess()
    run._tasks.append(asyncio.create_task(_follow(run, control, status)))
    run._tasks.append(asyncio.create_task(_watch_limits(run)))
    return status


async def _follow(run: Run, control: asyncio.StreamReader, status: asyncio.StreamReader) -> None:
    """Read the supervisor's reports: the submission's pid, then its exit status."""
    assert run.app_process is not None
    try:
        while line := await control.readline():
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if "app_pid" in event:
                    run.app_process.pid = event["app_pid"]
                elif "app_exit" in event:
                    run.app_process.exited(int(event["app_exit"]))
                    break
        else:
            run.app_process.exited(-signal.SIGKILL)  # the supervisor is gone: so is the app
    finally:
        # unshare keeps a copy of the status pipe open: its end is the app's exit, not EOF.
        status.feed_eof()


async def _watch_limits(run: Run) -> None:
    """Stop the submission as soon as it hits the process limit: its verdict then says so,
    instead of a timing check failing for want of a worker thread."""
    if run.cgroups is None:
        return
    while run.app_alive():
        if run.cgroups.pids_at_limit():
            run.hit_process_limit = True
            await asyncio.to_thread(run.cgroups.kill_all)
            return
        await asyncio.sleep(0.1)


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
            raise SubmissionFailed(death_message(run, code, before_ready=True))
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
            note = _output_note(run)
            raise SubmissionFailed(
                event["message"] + (f" {note}" if note else "") + (f"\n{detail}" if detail else "")
            )


def _output_note(run: Run) -> str:
    """Python ignores SIGXFSZ: past the output limit its writes fail with EFBIG instead."""
    limit = environment.LIMITS["output_mib"]
    with contextlib.suppress(OSError):
        if run.output_file.stat().st_size >= limit << 20:
            return f"(it wrote {limit} MiB of output, the limit: its writes failed past it)"
    return ""


def death_message(run: Run, code: int, *, before_ready: bool) -> str:
    errors = [e["message"] for e in run.status if e.get("event") == "error"]
    note = _output_note(run)
    if errors:
        return errors[-1] + (f" {note}" if note else "")
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
        elif run.cgroups is not None and run.cgroups.oom_kills():
            how += f" (it used more than {environment.LIMITS['memory_mib']} MiB of memory)"
        elif run.hit_process_limit:
            how += (
                f" (it tried to run more than {environment.LIMITS['processes']} processes "
                "and threads at once)"
            )
    else:
        how = f"exited with status {code}"
    if note and "SIGXFSZ" not in how:
        how += f" {note}"
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
async def running(
    app_file: Path,
    *,
    env: dict[str, str] | None = None,
    harness_args: tuple[str, ...] = (),
    reachable: tuple[str, ...] = (),
) -> AsyncIterator[Run]:
    """Serve ``app_file`` beside fresh dependency servers; always stop and clean up.

    ``env`` adds settings to the app's environment (the grader's own variables win);
    ``harness_args`` go to ``autograder.serve`` (what to import, what to watch);
    ``reachable`` are folders the app's uid must be able to read in the sandbox.
    Raises :class:`SubmissionFailed` when the submission cannot serve.
    """
    run = _new_run(app_file)
    run.extra_env = dict(env or {})
    run.harness_args = tuple(harness_args)
    run.reachable = tuple(reachable)
    try:
        conf = await asyncio.to_thread(environment.confinement)
        _acquire_slot(run)
        _warn_if_busy(run)
        assert run.slot is not None
        if conf.own_uid:
            run.uid = environment.UID_BASE + run.slot
        if conf.cgroups:
            run.cgroups = Cgroups.create(
                f"autograder-{run.token}",
                pids_max=environment.LIMITS["processes"],
                memory_bytes=environment.LIMITS["memory_mib"] << 20,
            )
        _prepare_files(run)
        status = await _start(run)
        assert run.deps is not None
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
    for task in run._tasks:
        task.cancel()
    strays: set[psutil.Process] = set()
    sup = run.supervisor
    if sup is not None:
        if environment.confinement().unshare:
            # The namespace's init is unshare's child: killing it kills the namespace.
            strays |= kill_tree(sup.pid)
        else:
            with contextlib.suppress(ProcessLookupError):
                sup.send_signal(signal.SIGTERM)  # it kills every descendant, then exits
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sup.wait(), 5)
            strays |= kill_tree(sup.pid)
    if run.cgroups is not None:
        await asyncio.to_thread(run.cgroups.kill_all)
    strays |= kill_carrying(run.token, run.uid)
    if sup is not None:  # our own child: reaped by asyncio, not by psutil
        with contextlib.suppress(ProcessLookupError, TimeoutError):
            await asyncio.wait_for(sup.wait(), 5)
    await asyncio.to_thread(_wait_gone, {p for p in strays if sup is None or p.pid != sup.pid})
    if run.cgroups is not None:
        await asyncio.to_thread(run.cgroups.remove)
    if run.uid is not None:
        await asyncio.to_thread(_remove_owned_by, run.uid)
    _release_slot(run)
    shutil.rmtree(run.workdir, ignore_errors=True)
    if run.app_process is not None and run.app_process.returncode is None:
        run.app_process.exited(-signal.SIGKILL)  # killed with its namespace: no report came


def _remove_owned_by(uid: int) -> None:
    """Files the submission left in the machine's shared temporary directories."""
    for top in ("/tmp", "/var/tmp", "/dev/shm"):
        with contextlib.suppress(OSError), os.scandir(top) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    if entry.stat(follow_symlinks=False).st_uid != uid:
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path, ignore_errors=True)
                    else:
                        os.unlink(entry.path)


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


def kill_carrying(
    token: str, uid: int | None = None, *, var: str = RUN_TOKEN_VAR
) -> set[psutil.Process]:
    """SIGKILL every process whose environment carries the run's token (escapees
    included), or that runs as the run's own uid (even one that cleared its environment)."""
    found = set()
    me = os.getpid()
    for p in psutil.process_iter():
        if p.pid == me:
            continue
        with contextlib.suppress(psutil.Error):
            if (uid is not None and p.uids().real == uid) or p.environ().get(var) == token:
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
