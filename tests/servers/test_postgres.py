"""The private PostgreSQL (autograder/servers/postgres.py): both drivers reach it on its
socket as the ordinary role, the superuser only with its password, pg_stat_activity shows
the app's connections, and it leaves nothing behind (a normal exit, an exception with a
client still connected, a failed start). Where PostgreSQL is missing the tests skip,
except under COURSE_REQUIRE_POSTGRES=1 (CI), where they fail."""

from __future__ import annotations

import asyncio
import os
import pwd
import tempfile
from pathlib import Path

import pytest

from autograder.servers import postgres


@pytest.fixture
def installed():
    if postgres.bindir() is None:
        if postgres.required():
            pytest.fail(f"{postgres.REQUIRE_VARIABLE}=1 but {postgres.INSTALL_HINT}")
        pytest.skip(postgres.INSTALL_HINT)


def _uid_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(pid)


def _gone(pids: list[int], folder: Path) -> None:
    assert [p for p in pids if postgres.is_running(p)] == [], "backends left behind"
    assert not folder.exists(), f"{folder} left behind"


def test_both_drivers_the_roles_and_pg_stat_activity(installed):
    import asyncpg
    import psycopg

    with postgres.postgres_server() as pg:
        assert pg.process is not None

        async def with_asyncpg() -> list[tuple[str, str]]:
            app = await asyncpg.connect(pg.dsn())
            grader = await asyncpg.connect(pg.dsn(admin=True))
            try:
                assert await app.fetchval("SELECT current_user") == postgres.APP_ROLE
                assert not await app.fetchval(
                    "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
                )
                await app.execute("CREATE TABLE t (id int PRIMARY KEY)")
                await app.execute("BEGIN; INSERT INTO t VALUES (1)")  # left idle in transaction
                rows = await grader.fetch(
                    "SELECT usename, state FROM pg_stat_activity "
                    "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
                )
                return sorted((r["usename"], r["state"]) for r in rows)
            finally:
                await app.close()
                await grader.close()

        assert asyncio.run(with_asyncpg()) == [("app", "idle in transaction")]
        with psycopg.connect(pg.dsn()) as app, psycopg.connect(pg.dsn(admin=True)) as grader:
            assert app.execute("SELECT count(*) FROM t").fetchone() == (0,)  # rolled back
            settings = dict(
                grader.execute(
                    "SELECT name, setting FROM pg_settings WHERE name IN ('max_connections', "
                    "'superuser_reserved_connections', 'listen_addresses', 'fsync')"
                ).fetchall()
            )
        assert settings == {
            "max_connections": str(postgres.MAX_CONNECTIONS),
            "superuser_reserved_connections": str(postgres.SUPERUSER_RESERVED),
            "listen_addresses": "",
            "fsync": "off",
        }
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(pg.dsn().replace("app@", "postgres@"))
        assert pg.app_env["DATABASE_URL"].startswith("postgresql+asyncpg://app@/course?host=")
        if os.geteuid() == 0:
            assert _uid_of(pg.process.pid) == pwd.getpwnam(postgres.SERVER_USER).pw_uid
        assert oct(pg.socket.stat().st_mode & 0o777) == "0o777"
        assert oct(pg.folder.stat().st_mode & 0o777) == "0o755"
        folder, backends = pg.folder, postgres.processes_of(pg.process.pid)
        assert len(backends) >= 4  # the postmaster, its checkpointer, writers...
    _gone(backends, folder)


def test_an_exception_with_a_client_connected_leaves_nothing(installed):
    import psycopg

    with pytest.raises(ZeroDivisionError):  # noqa: PT012
        with postgres.postgres_server() as pg:
            assert pg.process is not None
            conn = psycopg.connect(pg.dsn())
            pids, folder = postgres.processes_of(pg.process.pid), pg.folder
            1 / 0  # noqa: B018
    conn.close()
    _gone(pids, folder)


def test_a_failed_start_leaves_nothing(installed, monkeypatch):
    monkeypatch.setitem(postgres.SETTINGS, "shared_buffers", "not-a-size")
    before = set(Path(tempfile.gettempdir()).glob("course-postgres-*"))
    with pytest.raises(RuntimeError, match="did not start"):
        with postgres.postgres_server():
            pass
    assert set(Path(tempfile.gettempdir()).glob("course-postgres-*")) == before


def test_missing_postgres_is_explained_or_required(monkeypatch, capsys):
    monkeypatch.setattr(postgres, "bindir", lambda: None)
    monkeypatch.delenv(postgres.REQUIRE_VARIABLE, raising=False)
    assert postgres.available() is False
    assert "apt-get install postgresql" in capsys.readouterr().out
    with pytest.raises(postgres.PostgresMissing, match="brew install"):
        with postgres.postgres_server():
            pass
    monkeypatch.setenv(postgres.REQUIRE_VARIABLE, "1")
    with pytest.raises(postgres.PostgresMissing, match="COURSE_REQUIRE_POSTGRES=1"):
        postgres.available()


def test_debian_binaries_found_off_path(monkeypatch):
    if not list(Path("/usr/lib/postgresql").glob("*/bin/postgres")):
        pytest.skip("no Debian layout here")
    monkeypatch.setenv("PATH", "/nonexistent")
    found = postgres.bindir()
    assert found is not None and str(found).startswith("/usr/lib/postgresql/")


def test_a_server_whose_starter_was_killed_is_reaped_by_the_next(installed, tmp_path):
    """SIGKILL runs no ``finally``: the postmaster outlives its starter, reparented to init.
    The next start stops it and removes its folder; a live starter's server is left alone."""
    import signal
    import subprocess
    import sys
    import time

    ready = tmp_path / "ready"
    starter = subprocess.Popen([sys.executable, "-c", (
        "import pathlib, sys, time\n"
        "from autograder.servers import postgres\n"
        "with postgres.postgres_server() as pg:\n"
        f"    pathlib.Path({str(ready)!r}).write_text(f'{{pg.process.pid}} {{pg.folder}}')\n"
        "    time.sleep(60)\n"
    )])
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        pid_text, folder_text = ready.read_text().split(" ", 1)
        postmaster, folder = int(pid_text), Path(folder_text)
        with postgres.postgres_server() as live:  # reaps nothing: its starter is alive
            assert postgres.is_running(postmaster) and folder.exists()
            starter.send_signal(signal.SIGKILL)
            starter.wait()
            time.sleep(0.2)
            stat = postgres.proc_state(postmaster)
            if stat is None or stat[1] != 1:
                pytest.skip("orphans are reparented to a subreaper here, not to init")
            assert folder in postgres.reap_orphans()
            assert live.alive() and live.folder.exists()  # the live one is left alone
        time.sleep(0.2)
        assert not postgres.is_running(postmaster) and not folder.exists()
    finally:
        if starter.poll() is None:
            starter.kill()
            starter.wait()
