"""The scan serves a real service where it lives: its own interpreter and packages (nothing
installed into them), uvicorn's factory form and ``--app-dir`` (a src layout), a private
folder, and start-up failures that say what to do."""

from __future__ import annotations

import ast
import asyncio
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from autograder.harness import serve
from autograder.run import interpreter
from autograder.scan.run import explain_start_failure, unreachable_server
from autograder.scan.target import UsageError, parse_target
from tests.conftest import ROOT
from tests.scan.cli import scan_json

SERVICE = """\
import time

import only_in_its_env  # a package of the service's own environment, not the scanner's
from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/fine")
    async def fine():
        return {"marker": only_in_its_env.MARKER}

    @app.get("/stalls")
    async def stalls():
        time.sleep(0.15)
        return {}

    return app
"""


def make_venv(where: Path, *, with_course_packages: bool = True) -> Path:
    """A virtual environment of its own (no pip, nothing downloaded): fastapi and uvicorn
    come from the course's site-packages through a .pth line, as a service's venv has its
    own; ``only_in_its_env`` lives in this venv alone."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    site = Path(purelib)
    if with_course_packages:
        (site / "course_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (site / "only_in_its_env.py").write_text('MARKER = "from the service\'s own venv"\n')
    return python


def scan(*args: str, cwd: Path) -> tuple[int, dict, str]:
    code, out, err, _ = scan_json(*args, cwd=cwd)
    return code, out, err


# -- fast ----------------------------------------------------------------------------------


def test_the_interpreter_is_probed_and_refused_with_what_to_do(tmp_path):
    found = interpreter.probe(sys.executable)
    assert found.version[:2] >= interpreter.OLDEST and found.uvicorn
    assert any(sys.prefix.startswith(p) or p == sys.prefix for p in found.paths)
    with pytest.raises(interpreter.Unusable, match="no such interpreter"):
        interpreter.probe(tmp_path / "nope" / "python")
    bare = make_venv(tmp_path / "bare", with_course_packages=False)
    with pytest.raises(interpreter.Unusable, match="has no uvicorn.*pip install uvicorn"):
        interpreter.probe(bare)


def test_a_project_venv_is_found_beside_the_app_but_never_the_scanners_own(tmp_path):
    assert interpreter.project_venv(tmp_path) is None
    python = make_venv(tmp_path / ".venv")
    assert interpreter.project_venv(tmp_path / "elsewhere", tmp_path) == python
    assert interpreter.project_venv(Path(sys.prefix).parent) is None  # ours: not "theirs"


def test_the_harness_runs_on_python_3_10(monkeypatch):
    """The app's interpreter may be 3.10: no ``asyncio.Runner``, 3.10's syntax."""
    for path in (ROOT / "autograder" / "harness").glob("*.py"):
        ast.parse(path.read_text(), str(path), feature_version=(3, 10))
    ast.parse((ROOT / "autograder" / "__init__.py").read_text(), feature_version=(3, 10))
    monkeypatch.delattr(asyncio, "Runner")
    seen = []

    async def work() -> None:
        seen.append(type(asyncio.get_running_loop()).__name__)

    serve.run_on(asyncio.SelectorEventLoop)(work())
    assert seen == ["_UnixSelectorEventLoop"]


def test_factory_and_app_dir_forms(tmp_path):
    (tmp_path / "src" / "svc").mkdir(parents=True)
    (tmp_path / "src" / "svc" / "__init__.py").write_text("")
    (tmp_path / "src" / "svc" / "main.py").write_text("")
    target = parse_target("svc.main:create_app", cwd=tmp_path, app_dir=Path("src"), factory=True)
    assert target.root == (tmp_path / "src").resolve() and target.module == "svc.main"
    assert "--factory" in target.harness_args()
    with pytest.raises(UsageError, match="src layout"):
        parse_target("svc.main:create_app", cwd=tmp_path)
    with pytest.raises(UsageError, match="no such folder"):
        parse_target("svc.main:app", cwd=tmp_path, app_dir=Path("nope"))


@pytest.mark.parametrize(
    ("message", "env", "named"),
    [
        (
            "lifespan startup failed: ConnectionRefusedError: [Errno 111] Connect call failed "
            "('127.0.0.1', 5432)",
            {},
            "PostgreSQL (port 5432)",
        ),
        (
            "OperationalError: could not connect to server",
            {"DATABASE_URL": "postgresql+asyncpg://u@db/app"},
            "PostgreSQL (DATABASE_URL)",
        ),
        (
            "redis.exceptions.ConnectionError: Error 111 connecting to localhost:6379",
            {},
            "Redis (port 6379)",
        ),
        ("ValueError: bad config", {}, None),
    ],
)
def test_an_unreachable_server_is_named(message, env, named):
    assert unreachable_server(message, env) == named
    if named:
        assert "no network" in explain_start_failure(message, env)


def test_a_missing_package_points_at_the_apps_own_environment():
    said = explain_start_failure(
        "the app does not import: ModuleNotFoundError: No module named 'pydantic_settings'", {}
    )
    assert "'pydantic_settings'" in said and "--python" in said and "the submission" not in said


# -- slow: real scans ------------------------------------------------------------------------


@pytest.mark.slow
def test_a_service_in_its_own_venv_src_layout_factory_and_private_folder(tmp_path):
    home = tmp_path / "service"  # private, like a home folder: only its owner may enter
    (home / "src" / "svc").mkdir(parents=True)
    (home / "src" / "svc" / "__init__.py").write_text("")
    (home / "src" / "svc" / "main.py").write_text(SERVICE)
    make_venv(home / ".venv")
    home.chmod(0o700)
    before = sorted(p.name for p in (home / ".venv").rglob("*"))

    t0 = time.monotonic()
    code, out, err = scan(
        "-n", "5", "--factory", "--app-dir", "src", "svc.main:create_app", cwd=home
    )
    assert "serving the app with" in err and ".venv/bin/python" in err, err
    routes = {r["path"]: r for r in out["routes"]}
    assert routes["/fine"]["verdict"] == "fine", out
    stalls = routes["/stalls"]
    assert stalls["verdict"] == "blocks-loop", out
    line = SERVICE.splitlines().index("        time.sleep(0.15)") + 1
    assert stalls["diagnosis"].startswith(f"svc/main.py:{line}"), stalls
    assert code == 1 and time.monotonic() - t0 < 60
    assert sorted(p.name for p in (home / ".venv").rglob("*")) == before  # nothing installed

    # The scanner's own interpreter lacks the service's package: the answer says what to do.
    code, out, _ = scan(
        "--python",
        sys.executable,
        "--factory",
        "--app-dir",
        "src",
        "svc.main:create_app",
        cwd=home,
    )
    assert code == 1 and out["routes"] == []
    assert "'only_in_its_env'" in out["error"] and "--python" in out["error"], out["error"]
    assert "submission" not in out["error"]


@pytest.mark.slow
def test_a_wrong_interpreter_is_a_usage_error(tmp_path):
    (tmp_path / "app.py").write_text("from fastapi import FastAPI\napp = FastAPI()\n")
    bare = make_venv(tmp_path / "bare", with_course_packages=False)
    code, _, err = scan("--python", str(bare), "app.py", cwd=tmp_path)
    assert code == 2 and "has no uvicorn" in err and "usage:" in err


def test_code_made_at_run_time_is_never_the_apps_own(tmp_path, monkeypatch):
    """The module form runs the app in its own folder: ``<string>`` (SQLAlchemy's generated
    functions) and ``<frozen runpy>`` must not resolve to files of the app there."""
    from autograder.harness import app
    from autograder.harness.lag import LagMonitor

    monkeypatch.chdir(tmp_path)
    monitor = LagMonitor(str(tmp_path), lambda record: None)
    assert not monitor.watches("<string>") and not monitor.watches("<frozen runpy>")
    assert monitor.watches(str(tmp_path / "svc" / "main.py"))
    assert not app.owned("<string>", str(tmp_path))
