"""The restart feature (``autograder/run/restart.py``): the grader crashes a served app and
starts the same file again, in the same confinement, on the same port, beside the same
dependency servers, with a state directory that survives the restarts and goes with the run.

Slow: each test serves a real app (twice or more).
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from autograder.measure.load import Request
from autograder.measure.session import Session
from autograder.run import restart, runner
from autograder.run.handles import SubmissionFailed
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

APP = ROOT / "tests" / "restart" / "counter_app.py"


async def _get(s: Session, path: str) -> dict:
    r = await s.send(Request("GET", path))
    assert r.status == 200, r.body
    return r.json()


def test_sigkill_then_start_again_keeps_state_port_and_dependency_servers():
    async def scenario() -> tuple[Path, list[dict]]:
        async with runner.running(APP, restartable=True) as run:
            s = Session(run)
            port, deps_pid = run.app_port, run.deps.process.pid
            seen = [await _get(s, "/state")]
            code, took = await restart.stop_app(run, signal.SIGKILL, wait_at_most=5)
            assert code == -signal.SIGKILL and took < 5
            assert not run.app_alive()
            await restart.start_again(run)
            assert run.app_alive() and run.app_port == port
            assert run.deps.process.pid == deps_pid and run.deps.process.returncode is None
            assert (await s.deps_stats())["smtp_listening"]
            seen.append(await _get(s, "/state"))
            jobs_dir = run.jobs_dir
            assert jobs_dir.is_dir()
        return jobs_dir, seen

    jobs_dir, seen = asyncio.run(scenario())
    assert [x["starts"] for x in seen] == [1, 2]
    assert not seen[1]["graceful"]  # SIGKILL: the lifespan's shutdown never ran
    assert seen[0]["jobs_dir"] == str(jobs_dir)
    assert not jobs_dir.exists()  # removed with the run


def test_sigterm_runs_the_lifespan_shutdown_before_the_next_start():
    async def scenario() -> dict:
        async with runner.running(APP, restartable=True) as run:
            s = Session(run)
            await _get(s, "/state")
            code, _ = await restart.stop_app(run, signal.SIGTERM, wait_at_most=10)
            # uvicorn shuts down gracefully, then raises the signal it caught again
            assert code == -signal.SIGTERM
            await restart.start_again(run)
            return await _get(s, "/state")

    state = asyncio.run(scenario())
    assert state == {**state, "starts": 2, "graceful": True}


def test_sigkill_takes_the_apps_children_with_it():
    async def scenario() -> None:
        async with runner.running(APP, restartable=True) as run:
            s = Session(run)
            r = await s.send(Request("POST", "/child"))
            assert r.status == 200
            before = {p.pid for p in runner.host_app_processes(run)}
            kids = {c.pid for p in runner.host_app_processes(run) for c in p.children()}
            assert kids, "the app started no child"
            await restart.stop_app(run, signal.SIGKILL, wait_at_most=5)
            import psutil

            await asyncio.sleep(0.2)
            alive = [pid for pid in kids | before if psutil.pid_exists(pid)]
            zombies = [pid for pid in alive if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE]
            assert set(alive) <= set(zombies), alive

    asyncio.run(scenario())


def test_a_start_that_fails_after_the_restart_is_explained():
    async def scenario() -> None:
        async with runner.running(APP, restartable=True) as run:
            s = Session(run)
            assert (await s.send(Request("POST", "/fail-next-start"))).status == 200
            await restart.stop_app(run, signal.SIGKILL, wait_at_most=5)
            with pytest.raises(SubmissionFailed, match="refusing to start again"):
                await restart.start_again(run)

    asyncio.run(scenario())


def test_a_run_not_started_restartable_cannot_be_restarted():
    async def scenario() -> None:
        async with runner.running(APP.with_name("plain_app.py")) as run:
            assert "JOBS_DIR" not in (run.workdir / "output.log").read_text()
            with pytest.raises(RuntimeError, match="restartable"):
                await restart.stop_app(run, signal.SIGKILL, wait_at_most=1)

    asyncio.run(scenario())
