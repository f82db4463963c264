"""A private Redis server for lessons and drills that need a real broker.

:func:`redis_server` starts Debian's (or Homebrew's, or conda-forge's) ``redis-server``
with a data directory of its own and no TCP port: it listens on a Unix socket in that
directory. A served app runs in a network namespace of its own (bubblewrap's
``--unshare-net``), where the host's loopback is out of reach, but a socket file crosses
namespaces: pass :attr:`RedisServer.folder` as one of the run's ``reachable`` folders.
The socket is open to every uid (``unixsocketperm 777``), as the app runs as a uid of its
own.

The server can be killed and started again on the same data directory
(:meth:`RedisServer.kill`, :meth:`RedisServer.start`) to see what its persistence kept.
Whatever happens, leaving the ``with`` block stops it and removes its directory.

Where ``redis-server`` is not installed, :func:`redis_server` raises
:class:`RedisMissing`, whose message says how to install it; :func:`available` lets a
notebook skip its broker part with that message, unless ``COURSE_REQUIRE_REDIS=1``
(CI), where skipping is an error.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REQUIRE_VARIABLE = "COURSE_REQUIRE_REDIS"
INSTALL_HINT = (
    "redis-server is not installed, so the real-broker part is skipped. Install it with "
    "`sudo apt-get install redis-server` (Debian/Ubuntu), `brew install redis` (macOS) or "
    "`conda install -c conda-forge redis-server`, then run this again."
)
READY_WITHIN = 10.0


class RedisMissing(RuntimeError):
    """redis-server is not on PATH (the message says how to install it)."""


def executable() -> str | None:
    return shutil.which("redis-server")


def required() -> bool:
    """True where the broker part must run (CI sets ``COURSE_REQUIRE_REDIS=1``)."""
    return os.environ.get(REQUIRE_VARIABLE, "") == "1"


def available() -> bool:
    """True when redis-server can be started here; False (after printing how to install
    it) when it cannot. Raises :class:`RedisMissing` instead where it is required."""
    if executable() is not None:
        return True
    if required():
        raise RedisMissing(f"{REQUIRE_VARIABLE}=1: {INSTALL_HINT}")
    print(INSTALL_HINT)
    return False


def _ping(path: Path) -> bool:
    """One ``PING`` over the socket, in the protocol's inline form."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            sock.connect(str(path))
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One redis-server process on a Unix socket, with its data directory."""

    def __init__(self, folder: Path, *, appendonly: bool) -> None:
        self.folder = folder
        self.socket = folder / "redis.sock"
        self.appendonly = appendonly
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The address for redis-py (and arq's ``RedisSettings.from_dsn``)."""
        return f"unix://{self.socket}"

    def command(self) -> list[str]:
        binary = executable()
        if binary is None:
            raise RedisMissing(INSTALL_HINT)
        return [
            binary,
            "--port", "0",  # no TCP at all: only the socket below
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "777",  # the served app runs as a uid of its own
            "--dir", str(self.folder),
            "--appendonly", "yes" if self.appendonly else "no",
            "--daemonize", "no",
            "--save", "3600 1 300 100 60 10000",  # Redis 7's default snapshots, stated
            "--logfile", str(self.folder / "redis.log"),
        ]  # fmt: skip

    def start(self) -> None:
        """Start the server (again, on the same data directory); return once it answers."""
        assert not self.alive(), "already running"
        self.socket.unlink(missing_ok=True)
        self.process = subprocess.Popen(  # noqa: S603 - our own fixed command line
            self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + READY_WITHIN
        while not _ping(self.socket):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                log = (self.folder / "redis.log").read_text(errors="replace")[-800:]
                raise RuntimeError(f"redis-server did not start:\n{log}")
            time.sleep(0.02)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> int | None:
        """Send ``sig`` (a crash by default; SIGTERM saves and exits) and wait for the exit."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(READY_WITHIN)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(READY_WITHIN)

    def files(self) -> list[str]:
        """What is in the data directory (the snapshot, the append-only files)."""
        return sorted(
            str(p.relative_to(self.folder))
            for p in self.folder.rglob("*")
            if p.is_file() and p.name not in ("redis.log", "redis.sock")
        )


@contextlib.contextmanager
def redis_server(*, appendonly: bool = False) -> Iterator[RedisServer]:
    """A started :class:`RedisServer` in a fresh directory; stopped and removed on exit."""
    if executable() is None:
        raise RedisMissing(INSTALL_HINT)
    folder = Path(tempfile.mkdtemp(prefix="course-redis-"))
    folder.chmod(0o755)  # the served app's uid must reach the socket in it
    server = RedisServer(folder, appendonly=appendonly)
    try:
        server.start()
        yield server
    finally:
        server.kill()
        shutil.rmtree(folder, ignore_errors=True)
