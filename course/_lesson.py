"""What every course notebook needs around its lesson: a check that nothing is left
running, waiting for something another process does, reading a piece of an app's source.
(The lessons' figures are in ``_pictures``.)

The notebooks import these so that their own cells show the experiment and its claims,
not the harness.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import psutil

from autograder import lab
from autograder.lab.plots import (
    burst_figure as burst_figure,  # re-exported: the grader's own figure
)

T = TypeVar("T")


# The kernel's own machinery starts threads while a notebook runs, whatever the notebook
# does: ipykernel a subshell thread per subshell (JupyterLab >= 4.4 opens them for widget
# comms), IPython its history-saving thread, pyzmq a helper for large outputs. They are
# not the course's to stop.
KERNEL_MACHINERY = ("ipykernel", "IPython", "zmq", "jupyter_client", "comm", "tornado")


def started_by_the_kernel(thread: threading.Thread) -> bool:
    return type(thread).__module__.split(".")[0] in KERNEL_MACHINERY


class LeakCheck:
    """Notes the threads alive when created; :meth:`finish` closes the lab and asserts
    that no thread the notebook started since, and no child process, is still alive."""

    def __init__(self) -> None:
        self._threads_at_start = {t.ident for t in threading.enumerate()}

    def leftovers(self) -> tuple[list[str], list[psutil.Process]]:
        threads = [
            t.name
            for t in threading.enumerate()
            if t.ident not in self._threads_at_start and not started_by_the_kernel(t)
        ]
        return threads, psutil.Process().children(recursive=True)

    def finish(self) -> None:
        lab.close()  # stops any app still served, then the lab's own loop thread
        threads, processes = self.leftovers()
        assert not threads and not processes, (
            f"left running: threads {threads}, child processes {processes}"
        )
        print("nothing left running: every server, thread and process this notebook started is gone")


def wait_until(condition: Callable[[], T], within: float = 10.0) -> T:
    """Poll ``condition`` every 20 ms until it returns something truthy (returned), or fail."""
    deadline = time.monotonic() + within
    while not (value := condition()):
        assert time.monotonic() < deadline, f"the condition never came true within {within} s"
        time.sleep(0.02)
    return value


def cpu_quota() -> tuple[float | None, str]:
    """This process's cgroup CPU quota in cores (None: no quota) and the file it came from.

    cgroup v2 keeps it in ``cpu.max`` (``"max 100000"`` or ``"200000 100000"``), v1 in
    ``cpu.cfs_quota_us`` over ``cpu.cfs_period_us`` (quota -1: none).
    """
    root = Path("/sys/fs/cgroup")
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        rel = path.lstrip("/")
        if controllers == "" and (root / rel / "cpu.max").exists():
            quota, period = (root / rel / "cpu.max").read_text().split()
            where = str(root / rel / "cpu.max")
            return (None if quota == "max" else int(quota) / int(period)), where
        if "cpu" in controllers.split(","):
            for base in (root / "cpu" / rel, root / "cpu"):
                if (base / "cpu.cfs_quota_us").exists():
                    quota = int((base / "cpu.cfs_quota_us").read_text())
                    period = int((base / "cpu.cfs_period_us").read_text())
                    where = str(base / "cpu.cfs_quota_us")
                    return (None if quota < 0 else quota / period), where
    return None, "no cgroup CPU controller found"


def _read_response(sock: socket.socket) -> bytes:
    """One whole HTTP/1.1 response (head and a Content-Length body); b"" if the server
    closed the connection first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
         if line.lower().startswith(b"content-length:")),
        0,
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def show_function(path: Path, name: str) -> None:
    """Print one function (or class, or assignment) of an app file, not the whole file."""
    source = path.read_text()
    start = source.index(f"def {name}(") if f"def {name}(" in source else source.index(name)
    start = source.rfind("\n\n", 0, start) + 2
    end = source.find("\n\n\n", start)
    print(f"# {path}\n" + source[start : end if end > 0 else None])


def connection_kept_open(port: int, path: str, *, then_wait: float) -> bool:
    """POST ``path`` on one HTTP/1.1 keep-alive connection, read the answer, wait
    ``then_wait`` s (while the app runs its background tasks), then send ``GET /health``
    on the same connection: True if it was answered, False if the server had closed it."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode())
        first = _read_response(sock)
        assert first.startswith(b"HTTP/1.1 "), first[:60]
        time.sleep(then_wait)
        try:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            return _read_response(sock).startswith(b"HTTP/1.1 200")
        except (ConnectionError, TimeoutError):
            return False
