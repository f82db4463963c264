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

What to start comes as one typed record (``sandbox_spec.SandboxSpec``, JSON on the
command line). The grader-side helpers live elsewhere: ``cgroups.py``, ``slots.py``,
``proctree.py``.
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
from pathlib import Path
from typing import Any

from autograder import environment, proctree
from autograder.sandbox_spec import SandboxSpec

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


class _Stop(Exception):
    pass


def _confine(spec: SandboxSpec) -> None:
    """``preexec_fn`` of the submission: cgroups, limits, then drop to its own uid."""
    for procs in spec.cgroup_procs:
        fd = os.open(procs, os.O_WRONLY)
        try:
            os.write(fd, str(os.getpid()).encode())
        finally:
            os.close(fd)
    environment.apply_limits(nproc=spec.uid is not None)
    prctl(PR_SET_NO_NEW_PRIVS, 1)  # no setuid binary gives the privileges back
    if spec.uid is not None:
        os.setgroups([])
        os.setgid(spec.uid)
        os.setuid(spec.uid)


def supervise(spec: SandboxSpec) -> int:
    control = os.fdopen(spec.control_fd, "w", buffering=1)

    def tell(obj: dict[str, Any]) -> None:
        with contextlib.suppress(OSError, ValueError):
            control.write(json.dumps(obj) + "\n")
            control.flush()

    def stop(signum: int, frame: Any) -> None:
        raise _Stop

    signal.signal(signal.SIGTERM, stop)
    prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans (double forks) come back to us
    if spec.loopback_up:
        loopback_up()
    if spec.expose:
        expose(list(spec.expose))
    up, smtp = listening_socket(), listening_socket()
    ports = {"upstream": up.getsockname()[1], "smtp": smtp.getsockname()[1]}
    tell({"ports": ports})
    with open(spec.deps_log, "ab") as deps_log:
        deps = subprocess.Popen(
            [
                *spec.deps_argv,
                "--upstream-fd",
                str(up.fileno()),
                "--smtp-fd",
                str(smtp.fileno()),
            ],
            stdin=None,  # ours: the grader's command pipes
            stdout=None,
            stderr=deps_log,
            pass_fds=(up.fileno(), smtp.fileno()),
            env=spec.deps_env,
            cwd=spec.workdir,
            start_new_session=True,
        )
    up.close()
    smtp.close()
    env = dict(spec.app_env)
    env["UPSTREAM_URL"] = f"http://127.0.0.1:{ports['upstream']}"
    env["SMTP_HOST"] = "127.0.0.1"
    env["SMTP_PORT"] = str(ports["smtp"])
    output = spec.output_fd

    def start_app(argv: tuple[str, ...], fds: tuple[int, ...]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            pass_fds=fds,
            env=env,
            cwd=spec.home,
            start_new_session=True,
            preexec_fn=lambda: _confine(spec),
        )

    app = start_app(spec.app_argv, spec.app_fds)
    # The status pipe must reach EOF when the app dies; a restartable run keeps the
    # listening socket and the output file for the next start.
    kept = (output, spec.app_fds[0]) if spec.restart_fd is not None else ()
    for fd in (output, *spec.app_fds):
        if fd not in kept:
            os.close(fd)
    tell({"app_pid": app.pid})
    try:
        if spec.restart_fd is not None:
            from autograder.sandbox_restart import supervise_restarts

            supervise_restarts(spec, app, deps, tell, start_app)
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
        proctree.kill_descendants()
    return 0


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
    return supervise(SandboxSpec.from_json(sys.argv[1]))


if __name__ == "__main__":
    sys.exit(main())
