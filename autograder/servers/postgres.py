"""A private PostgreSQL server for lessons and exercises that need a real database.

:func:`postgres_server` runs Debian's (or Homebrew's, or conda-forge's) ``initdb`` and
``postgres`` on a throw-away cluster in a fresh temporary directory, with no TCP port: it
listens on a Unix socket in that directory (``listen_addresses=''``). A served app runs in
a network namespace of its own (bubblewrap's ``--unshare-net``), where the host's
loopback is out of reach, but a socket file crosses namespaces: pass
:attr:`PostgresServer.folder` as one of the run's ``reachable`` folders. The socket is
open to every uid (``unix_socket_permissions = 0777``), as the app runs as a uid of its
own.

PostgreSQL refuses to run as root. When the caller is root, ``initdb`` and ``postgres``
run as ``nobody`` (``Popen(user=, group=, extra_groups=[])``: no ``preexec_fn``, safe
in a threaded kernel), and the cluster's directory belongs to ``nobody``; otherwise they
run as the caller.

Two roles, so that a served app never holds a superuser (whose ``COPY ... TO PROGRAM``
would run commands on the host as the server's uid, outside the app's sandbox):

- ``postgres``, the superuser, with a random password (scram-sha-256): the grader's and
  the lesson's own connection (``dsn(admin=True)``), e.g. to read
  ``pg_stat_activity``;
- ``app``, an ordinary role that owns the database ``course``, no password
  (``trust`` on the socket): what the served app gets (:attr:`PostgresServer.app_env`:
  ``DATABASE_URL`` for SQLAlchemy with asyncpg, ``DATABASE_DSN`` for the drivers).

``max_connections`` is small and known (:data:`MAX_CONNECTIONS`, of which
:data:`SUPERUSER_RESERVED` are kept for the superuser): pools that add up past it are
cheap to show, and the grader's own connection always gets in. Durability is off
(``fsync``, ``synchronous_commit``, ``full_page_writes``): the cluster lives for one run.

Whatever happens, leaving the ``with`` block stops the server (a fast shutdown, then
SIGKILL to the postmaster and to every backend it had) and removes its directory.

Where the binaries are not installed, :func:`postgres_server` raises
:class:`PostgresMissing`, whose message says how to install them; :func:`available` lets
a notebook skip its database part with that message, unless ``COURSE_REQUIRE_POSTGRES=1``
(CI), where skipping is an error.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REQUIRE_VARIABLE = "COURSE_REQUIRE_POSTGRES"
HOW_TO_INSTALL = (
    "Install PostgreSQL's server (initdb, postgres) with `sudo apt-get install postgresql` "
    "(Debian/Ubuntu: the binaries go to /usr/lib/postgresql/<version>/bin, found there), "
    "`brew install postgresql@16` (macOS) or `conda install -c conda-forge postgresql`, "
    "then run this again."
)
INSTALL_HINT = (
    "PostgreSQL's server is not installed, so the PostgreSQL part is skipped. " + HOW_TO_INSTALL
)
READY_WITHIN = 15.0
STOP_WITHIN = 5.0
MAX_CONNECTIONS = 20
SUPERUSER_RESERVED = 3  # so an app's pools get 17 connections; the grader always gets in
ADMIN_ROLE, APP_ROLE, DATABASE = "postgres", "app", "course"
SERVER_USER = "nobody"  # who runs the server when the caller is root
SOCKET_NAME = ".s.PGSQL.5432"
SETTINGS = {
    "listen_addresses": "",  # no TCP at all: only the socket below
    "unix_socket_permissions": "0777",  # the served app runs as a uid of its own
    "max_connections": str(MAX_CONNECTIONS),
    "superuser_reserved_connections": str(SUPERUSER_RESERVED),
    "fsync": "off",  # a throw-away cluster: nothing to keep across a crash
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "16MB",
    "max_wal_senders": "0",
    "wal_level": "minimal",
    "autovacuum": "off",
    "logging_collector": "off",
    "log_min_messages": "warning",
    "track_activity_query_size": "1024",
}


class PostgresMissing(RuntimeError):
    """initdb/postgres were not found (the message says how to install them)."""


def _version(path: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path.parent.name))


def bindir() -> Path | None:
    """The folder holding ``initdb`` and ``postgres``: on PATH first, else Debian's
    ``/usr/lib/postgresql/<N>/bin`` (not on PATH there), the newest version."""
    found = shutil.which("initdb")
    if found is not None:
        folder = Path(found).resolve().parent
        if (folder / "postgres").exists():
            return folder
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version)
    for folder in reversed(debian):
        if (folder / "initdb").exists() and (folder / "postgres").exists():
            return folder
    return None


def required() -> bool:
    """True where the database part must run (CI sets ``COURSE_REQUIRE_POSTGRES=1``)."""
    return os.environ.get(REQUIRE_VARIABLE, "") == "1"


def available() -> bool:
    """True when PostgreSQL can be started here; False (after printing how to install it)
    when it cannot. Raises :class:`PostgresMissing` instead where it is required."""
    if bindir() is not None:
        return True
    if required():
        raise PostgresMissing(f"{REQUIRE_VARIABLE}=1: {INSTALL_HINT}")
    print(INSTALL_HINT)
    return False


def _server_ids() -> tuple[int, int] | None:
    """(uid, gid) to run the server as, or None to run it as ourselves (not root)."""
    if os.geteuid() != 0:
        return None
    entry = pwd.getpwnam(SERVER_USER)
    return entry.pw_uid, entry.pw_gid


def processes_of(root: int) -> list[int]:
    """``root`` and its direct children (the postmaster's backends), read from /proc
    (where there is none, macOS, only ``root``: its fast shutdown ends its backends)."""
    found = [root]
    if not os.path.isdir("/proc"):
        return found
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == root:
                    found.append(int(entry))
    return found


def is_running(pid: int) -> bool:
    """Running (a zombie is not: it runs no code)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


@dataclass
class PostgresServer:
    """One postgres process on a Unix socket, with its throw-away cluster."""

    folder: Path  # the socket's directory (``reachable`` for a sandboxed app)
    bindir: Path
    password: str = field(repr=False)
    ids: tuple[int, int] | None = None  # (uid, gid) it runs as; None: the caller's
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    started_in: float | None = None  # seconds, initdb to ready

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "postgres.log"

    @property
    def socket(self) -> Path:
        return self.folder / SOCKET_NAME

    # The addresses: one libpq URI (``host`` the socket's directory) for psycopg and
    # asyncpg alike, and SQLAlchemy's for each async driver.
    def dsn(self, *, admin: bool = False) -> str:
        """For ``asyncpg.connect`` and ``psycopg.connect``; ``admin``: the superuser."""
        return f"postgresql://{self._user(admin)}@/{DATABASE}?host={self.folder}"

    def sqlalchemy_url(self, driver: str = "asyncpg", *, admin: bool = False) -> str:
        """``driver``: ``asyncpg`` or ``psycopg`` (psycopg 3: async under an async engine)."""
        return f"postgresql+{driver}://{self._user(admin)}@/{DATABASE}?host={self.folder}"

    @property
    def app_env(self) -> dict[str, str]:
        """What a served app gets, as the ordinary role: ``DATABASE_URL`` (SQLAlchemy with
        asyncpg) and ``DATABASE_DSN`` (the libpq URI: asyncpg, psycopg, psycopg_pool)."""
        return {"DATABASE_URL": self.sqlalchemy_url(), "DATABASE_DSN": self.dsn()}

    def _user(self, admin: bool) -> str:
        return f"{ADMIN_ROLE}:{self.password}" if admin else APP_ROLE

    def _run(self, args: list[str], *, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        uid, gid, groups = self._as_server()
        return subprocess.run(  # noqa: S603 - our own fixed command line
            args, input=stdin, capture_output=True, check=False, env=self._env(),
            cwd=self.folder, user=uid, group=gid, extra_groups=groups,
        )  # fmt: skip

    @staticmethod
    def _env() -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}

    def _as_server(self) -> tuple[int | None, int | None, list[int] | None]:
        """(user, group, extra_groups) for ``subprocess``: ``nobody``'s when we are root."""
        if self.ids is None:
            return None, None, None
        return self.ids[0], self.ids[1], []

    def init(self) -> None:
        """A fresh cluster: the superuser with its password, then the app's role and database
        (in single-user mode: no server, no client library needed)."""
        pwfile = self.folder / "pw"
        pwfile.write_text(self.password + "\n")
        if self.ids is not None:
            os.chown(pwfile, *self.ids)
        done = self._run([
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", ADMIN_ROLE,
            f"--pwfile={pwfile}", "--auth-local=scram-sha-256", "--auth-host=reject",
            "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
        ])  # fmt: skip
        pwfile.unlink()
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{done.stderr.decode(errors='replace')[-800:]}")
        # The superuser only with its password; every other role on the socket, trusted.
        (self.data / "pg_hba.conf").write_text(
            f"local all {ADMIN_ROLE} scram-sha-256\nlocal all all trust\n"
        )
        sql = (f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;\n"
               f"CREATE DATABASE {DATABASE} OWNER {APP_ROLE};\n")
        done = self._run(
            [str(self.bindir / "postgres"), "--single", "-D", str(self.data), "-F",
             "-c", "log_min_messages=warning", "postgres"],
            stdin=sql.encode(),
        )
        said = (done.stdout + done.stderr).decode(errors="replace")
        if done.returncode != 0 or "ERROR" in said:
            raise RuntimeError(f"creating the app's role failed:\n{said[-800:]}")

    def command(self) -> list[str]:
        settings = [f"--{k.replace('_', '-')}={v}" for k, v in SETTINGS.items()]
        return [
            str(self.bindir / "postgres"), "-D", str(self.data),
            "-k", str(self.folder),  # unix_socket_directories: the socket goes here
            *settings,
        ]  # fmt: skip

    def start(self) -> None:
        """Start the server on the cluster; return once it accepts connections."""
        assert not self.alive(), "already running"
        with self.log.open("ab") as log:
            uid, gid, groups = self._as_server()
            self.process = subprocess.Popen(  # noqa: S603 - our own fixed command line
                self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                env=self._env(), cwd=self.folder, user=uid, group=gid, extra_groups=groups,
            )  # fmt: skip
        deadline = time.monotonic() + READY_WITHIN
        while not self.ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = self.log.read_text(errors="replace")[-800:]
                raise RuntimeError(f"postgres did not start:\n{tail}")
            time.sleep(0.01)

    def ready(self) -> bool:
        """The postmaster says so in ``postmaster.pid`` (what ``pg_ctl`` reads), and the
        socket exists."""
        try:
            lines = (self.data / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready" and self.socket.exists()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """A fast shutdown (SIGINT: clients cut off, no checkpoint wait worth the name with
        fsync off); SIGKILL to the postmaster and its backends if it takes too long."""
        if self.process is None:
            return
        pids = processes_of(self.process.pid)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(STOP_WITHIN)
            except subprocess.TimeoutExpired:
                pids = sorted(set(pids) | set(processes_of(self.process.pid)))
                self.process.kill()
                self.process.wait(STOP_WITHIN)
        # Backends exit with their postmaster; any that did not are killed by pid (they
        # are each in a process group of their own, so no group kill would reach them).
        for pid in pids[1:]:
            if is_running(pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)


def proc_state(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) from /proc, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1])


def reap_orphans() -> list[Path]:
    """Stop the servers whose starter was killed outright (SIGKILL: no ``finally`` ran) and
    remove their folders. An orphan is a postmaster on a ``course-postgres-*`` cluster whose
    parent is now init (pid 1): a running one's parent is the live process that started
    it, whatever session or worktree that is. Returns the folders removed."""
    removed: list[Path] = []
    if not os.path.isdir("/proc"):
        return removed
    prefix = str(Path(tempfile.gettempdir()) / "course-postgres-")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv if a]
        if not words or not words[0].endswith("/postgres") or "-D" not in words:
            continue
        data = words[words.index("-D") + 1] if words.index("-D") + 1 < len(words) else ""
        stat = proc_state(pid)
        if not data.startswith(prefix) or stat is None or stat[1] != 1:
            continue
        for child in processes_of(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(child, signal.SIGKILL)
        folder = Path(data).parent
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A started :class:`PostgresServer` in a fresh directory; stopped and removed on exit
    (first, any server whose starter was SIGKILLed is stopped: :func:`reap_orphans`)."""
    binaries = bindir()
    if binaries is None:
        raise PostgresMissing(INSTALL_HINT)
    reap_orphans()
    t0 = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="course-postgres-"))
    folder.chmod(0o755)  # the served app's uid must reach the socket in it
    ids = _server_ids()
    server = PostgresServer(folder, binaries, password=secrets.token_hex(16), ids=ids)
    try:
        if ids is not None:
            os.chown(folder, *ids)  # initdb creates data/ (0700) inside it, as that uid
        server.init()
        server.start()
        server.started_in = time.monotonic() - t0
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
