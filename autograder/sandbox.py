"""The submission's sandbox: a small supervisor between the grader and the submission.

``python -m autograder.sandbox SPEC_JSON`` is started by the runner, when the machine
allows it inside fresh PID, network and mount namespaces (``unshare --pid --net --mount
--mount-proc --fork --kill-child``). There the supervisor is the namespace's init: when
the grader kills it, the kernel kills every process of the namespace, whatever session,
process group or double fork the submission used. Signals sent to it from inside the
namespace (``os.kill(os.getppid(), 9)``) are ignored by the kernel.

The supervisor:

1. brings the namespace's loopback up (the only interface the submission sees);
2. binds the dependency servers' sockets there and reports their ports on the control
   pipe, then starts the dependency servers (its own stdin/stdout are the grader's
   command pipes: the grader talks to them through pipes only);
3. starts the submission's harness (``autograder.serve``) in a session of its own, in its
   cgroups, under the resource limits, as an unprivileged uid of its own when it can;
4. reports the submission's exit status on the control pipe, reaps orphans (it is a
   child subreaper even without a PID namespace), and on SIGTERM kills every descendant.

Grader-side helpers for the same job (cgroups, run slots) live here too.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from autograder import environment

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38

_libc = ctypes.CDLL(None, use_errno=True)


def prctl(option: int, value: int) -> bool:
    return _libc.prctl(option, value, 0, 0, 0) == 0


def die_with_parent() -> None:
    """``preexec_fn``: SIGKILL this child when the thread that started it dies."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


# -- inside the sandbox --------------------------------------------------------------------


def loopback_up() -> None:
    """A new network namespace has ``lo`` down: bring it up (SIOCGIFFLAGS/SIOCSIFFLAGS)."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = fcntl.ioctl(s, siocgifflags, struct.pack("16sH22x", b"lo", 0))
        flags = struct.unpack("16sH22x", ifr)[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sH22x", b"lo", flags | iff_up))


MS_RDONLY, MS_NOSUID, MS_NODEV, MS_BIND, MS_REC = 1, 2, 4, 4096, 16384


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    if _libc.mount(
        source.encode(), target.encode(), fstype.encode() if fstype else None, flags, data.encode()
    ):
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def expose(paths: list[str]) -> None:
    """Make ``paths`` (the interpreter, the virtualenv, the grader) reachable by a stranger
    uid, in this mount namespace only: a directory on the way that others may not enter
    (``/root`` holding a pyenv Python, say) is covered by an empty tmpfs, and each path is
    bind-mounted back at its own place. What else that directory held stays hidden."""
    covers: dict[str, list[tuple[str, int]]] = {}
    for path in dict.fromkeys(os.path.realpath(p) for p in paths):
        parts = Path(path).parts
        for i in range(2, len(parts)):
            ancestor = str(Path(*parts[:i]))
            if not os.stat(ancestor).st_mode & 0o001:
                covers.setdefault(ancestor, []).append((path, os.open(path, os.O_PATH)))
                break
    for cover, inside in covers.items():
        _mount("tmpfs", cover, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
        for path, fd in inside:
            os.makedirs(path, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
            os.close(fd)


def listening_socket() -> socket.socket:
    """A loopback listening socket a child process can inherit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def _descendants(root: int) -> list[int]:
    """Every process below ``root``, read from /proc (no psutil in here: it stays small)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill_descendants(timeout: float = 3.0) -> None:
    me = os.getpid()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        victims = _descendants(me)
        for pid in victims:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        if not victims:
            return
        time.sleep(0.01)


class _Stop(Exception):
    pass


def _confine(spec: dict[str, Any]) -> None:
    """``preexec_fn`` of the submission: cgroups, limits, then drop to its own uid."""
    for procs in spec["cgroup_procs"]:
        fd = os.open(procs, os.O_WRONLY)
        try:
            os.write(fd, str(os.getpid()).encode())
        finally:
            os.close(fd)
    environment.apply_limits(nproc=spec["uid"] is not None)
    prctl(PR_SET_NO_NEW_PRIVS, 1)  # no setuid binary gives the privileges back
    if spec["uid"] is not None:
        os.setgroups([])
        os.setgid(spec["uid"])
        os.setuid(spec["uid"])


def supervise(spec: dict[str, Any]) -> int:
    control = os.fdopen(spec["control_fd"], "w", buffering=1)

    def tell(obj: dict[str, Any]) -> None:
        with contextlib.suppress(OSError, ValueError):
            control.write(json.dumps(obj) + "\n")
            control.flush()

    def stop(signum: int, frame: Any) -> None:
        raise _Stop

    signal.signal(signal.SIGTERM, stop)
    prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans (double forks) come back to us
    if spec["loopback_up"]:
        loopback_up()
    if spec["expose"]:
        expose(spec["expose"])
    up, smtp = listening_socket(), listening_socket()
    ports = {"upstream": up.getsockname()[1], "smtp": smtp.getsockname()[1]}
    tell({"ports": ports})
    with open(spec["deps_log"], "ab") as deps_log:
        deps = subprocess.Popen(
            [
                *spec["deps_argv"],
                "--upstream-fd",
                str(up.fileno()),
                "--smtp-fd",
                str(smtp.fileno()),
            ],
            stdin=None,  # ours: the grader's command pipes
            stdout=None,
            stderr=deps_log,
            pass_fds=(up.fileno(), smtp.fileno()),
            env=spec["deps_env"],
            cwd=spec["workdir"],
            start_new_session=True,
        )
    up.close()
    smtp.close()
    env = dict(spec["app_env"])
    env["UPSTREAM_URL"] = f"http://127.0.0.1:{ports['upstream']}"
    env["SMTP_HOST"] = "127.0.0.1"
    env["SMTP_PORT"] = str(ports["smtp"])
    output = spec["output_fd"]
    app = subprocess.Popen(
        spec["app_argv"],
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=output,
        pass_fds=tuple(spec["app_fds"]),
        env=env,
        cwd=spec["home"],
        start_new_session=True,
        preexec_fn=lambda: _confine(spec),
    )
    for fd in (output, *spec["app_fds"]):  # the status pipe must reach EOF when the app dies
        os.close(fd)
    tell({"app_pid": app.pid})
    try:
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                signal.pause()
                continue
            if pid == app.pid:
                app.returncode = os.waitstatus_to_exitcode(status)
                tell({"app_exit": app.returncode})
            elif pid == deps.pid:
                deps.returncode = os.waitstatus_to_exitcode(status)
                tell({"deps_exit": deps.returncode})
    except _Stop:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _kill_descendants()
    return 0


# -- on the grader's side ------------------------------------------------------------------

CGROUP_ROOT = Path("/sys/fs/cgroup")


class Cgroups:
    """A pids and a memory cgroup for one run's submission (v1 or v2), when the machine allows.

    The pids controller counts every task (threads included) whatever its uid, which
    RLIMIT_NPROC does not do for root; the memory controller bounds the whole process
    tree, which RLIMIT_AS (per process) does not.
    """

    def __init__(self, dirs: dict[str, Path]) -> None:
        self.dirs = dirs

    @classmethod
    def create(cls, name: str, *, pids_max: int, memory_bytes: int) -> Cgroups | None:
        try:
            own = Path("/proc/self/cgroup").read_text().splitlines()
        except OSError:
            return None
        places: dict[str, str] = {}
        for line in own:
            _, controllers, path = line.split(":", 2)
            for c in controllers.split(","):
                places[c or "unified"] = path
        dirs: dict[str, Path] = {}
        try:
            if "pids" in places and (CGROUP_ROOT / "pids").is_dir():  # v1
                for ctrl in ("pids", "memory"):
                    d = CGROUP_ROOT / ctrl / places[ctrl].lstrip("/") / name
                    d.mkdir()
                    dirs[ctrl] = d
                (dirs["pids"] / "pids.max").write_text(str(pids_max))
                (dirs["memory"] / "memory.limit_in_bytes").write_text(str(memory_bytes))
            elif (CGROUP_ROOT / "cgroup.controllers").exists():  # v2
                parent = CGROUP_ROOT / places.get("unified", "/").lstrip("/")
                (parent / "cgroup.subtree_control").write_text("+pids +memory")
                d = parent / name
                d.mkdir()
                dirs["pids"] = dirs["memory"] = d
                (d / "pids.max").write_text(str(pids_max))
                (d / "memory.max").write_text(str(memory_bytes))
                (d / "memory.swap.max").write_text("0")
            else:
                return None
        except (OSError, KeyError, ValueError):
            cls(dirs).remove()
            return None
        return cls(dirs)

    @property
    def version(self) -> int:
        return 2 if self.dirs.get("pids") == self.dirs.get("memory") else 1

    def procs_files(self) -> list[str]:
        return sorted({str(d / "cgroup.procs") for d in self.dirs.values()})

    def _counter(self, ctrl: str, file: str, key: str) -> int:
        with contextlib.suppress(OSError, ValueError, KeyError):
            text = (self.dirs[ctrl] / file).read_text()
            for line in text.splitlines():
                k, _, v = line.partition(" ")
                if k == key:
                    return int(v)
        return 0

    def pids_refused(self) -> int:
        """How many forks or thread starts the pids limit refused."""
        return self._counter("pids", "pids.events", "max")

    def pids_at_limit(self) -> bool:
        """Did the submission reach the process limit? (RLIMIT_NPROC, equal to it, may refuse
        the fork first and leave the cgroup's own counter at 0.)"""
        if self.pids_refused():
            return True
        with contextlib.suppress(OSError, ValueError):
            d = self.dirs["pids"]
            return int((d / "pids.current").read_text()) >= int((d / "pids.max").read_text())
        return False

    def oom_kills(self) -> int:
        if self.version == 1:
            return self._counter("memory", "memory.oom_control", "oom_kill")
        return self._counter("memory", "memory.events", "oom_kill")

    def pids(self) -> list[int]:
        found: set[int] = set()
        for procs in self.procs_files():
            with contextlib.suppress(OSError, ValueError):
                found.update(int(p) for p in Path(procs).read_text().split())
        return sorted(found)

    def kill_all(self, timeout: float = 3.0) -> None:
        deadline = time.monotonic() + timeout
        while (pids := self.pids()) and time.monotonic() < deadline:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def remove(self) -> None:
        for d in set(self.dirs.values()):
            for _ in range(50):  # v1 refuses while a killed task is still exiting
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def probe_uid(uid: int, paths: list[str]) -> int:
    """Can ``uid`` run the interpreter and import the web stack here? (0: yes)"""
    if paths:
        expose(paths)
    return subprocess.run(
        [sys.executable, "-c", "import json, uvicorn"],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        cwd="/",
        user=uid,
        group=uid,
        extra_groups=[],
        timeout=30,
    ).returncode


def main() -> int:
    if sys.argv[1] == "--probe-uid":
        return probe_uid(int(sys.argv[2]), sys.argv[3:])
    return supervise(json.loads(sys.argv[1]))


if __name__ == "__main__":
    sys.exit(main())
