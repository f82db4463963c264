"""The private Redis server (autograder/servers/brokers.py): it answers on its socket only, a kill
of it loses what only its memory held unless the append-only file is on, and it leaves
nothing behind. Where redis-server is missing the tests skip, except under
COURSE_REQUIRE_REDIS=1 (CI), where they fail."""

from __future__ import annotations

import signal
import socket

import psutil
import pytest

from autograder.servers import brokers


@pytest.fixture
def installed():
    if brokers.executable() is None:
        if brokers.required():
            pytest.fail(f"{brokers.REQUIRE_VARIABLE}=1 but {brokers.INSTALL_HINT}")
        pytest.skip(brokers.INSTALL_HINT)


def command(path, *words: str) -> bytes:
    """One inline command over the socket; the raw reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        sock.connect(str(path))
        sock.sendall(" ".join(words).encode() + b"\r\n")
        return sock.recv(4096)


def test_socket_only_and_cleaned_up(installed):
    with brokers.redis_server() as server:
        assert command(server.socket, "PING").startswith(b"+PONG")
        assert server.url == f"unix://{server.socket}"
        pid = server.process.pid
        listening = [c for c in psutil.Process(pid).net_connections("inet") if c.status == "LISTEN"]
        assert listening == []  # no TCP port: only the socket
        assert oct(server.socket.stat().st_mode & 0o777) == "0o777"  # any uid may connect
        folder = server.folder
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not folder.exists()


@pytest.mark.parametrize(
    ("appendonly", "sig", "kept"),
    [
        (False, signal.SIGKILL, False),  # memory only, no snapshot due yet: gone
        (False, signal.SIGTERM, True),  # a clean shutdown writes the snapshot
        (True, signal.SIGKILL, True),  # the append-only file had every write
    ],
)
def test_what_survives_a_kill_of_redis(installed, appendonly, sig, kept):
    with brokers.redis_server(appendonly=appendonly) as server:
        assert command(server.socket, "RPUSH", "jobs", "a", "b", "c") == b":3\r\n"
        server.kill(sig)
        assert not server.alive()
        server.start()
        assert command(server.socket, "LLEN", "jobs") == (b":3\r\n" if kept else b":0\r\n")


def test_missing_redis_is_explained_or_required(monkeypatch, capsys):
    monkeypatch.setattr(brokers.shutil, "which", lambda name: None)
    monkeypatch.delenv(brokers.REQUIRE_VARIABLE, raising=False)
    assert brokers.available() is False
    assert "apt-get install redis-server" in capsys.readouterr().out
    with pytest.raises(brokers.RedisMissing, match="brew install redis"):
        with brokers.redis_server():
            pass
    monkeypatch.setenv(brokers.REQUIRE_VARIABLE, "1")
    with pytest.raises(brokers.RedisMissing, match="COURSE_REQUIRE_REDIS=1"):
        brokers.available()
