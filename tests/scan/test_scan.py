"""``python -m autograder scan``: request building, verdicts, and real scans of test apps.

Fast tests build requests from schemas and classify synthetic figures. Slow tests scan the
apps in tests/scan_apps/ (known problems, known clean routes, bad inputs) through the
command line, as a user would.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import Body, FastAPI, Header, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from autograder.measure.load import Request
from autograder.scan import openapi, userfile
from autograder.scan.classify import Summary, classify
from autograder.scan.openapi import Plan, Unfillable
from autograder.scan.run import explain_start_failure
from autograder.scan.target import UsageError, parse_env, parse_target
from tests.conftest import ROOT, run_cli
from tests.scan.cli import scan_json

APPS = ROOT / "tests" / "scan_apps"


# -- requests from OpenAPI schemas -----------------------------------------------------------


class Item(BaseModel):
    name: str
    price: float = Field(gt=0)
    tags: list[str] = Field(min_length=1)
    note: str | None = None


def _schema_app() -> FastAPI:
    app = FastAPI()

    @app.get("/books/{book_id}")
    async def book(book_id: int, lang: str = Query(examples=["fr"]), full: bool = False):
        return {}

    @app.get("/range")
    async def ranged(n: int = Query(ge=10, le=20), kind: str | None = Query()):
        return {}

    @app.get("/users/{name}")
    async def user(name: str = PathParam(pattern="^[a-z]+$")):
        return {}

    @app.get("/headers")
    async def headers(x_tenant: str = Header()):
        return {}

    @app.post("/items")
    async def create(item: Item, dry_run: bool = Body(False)):
        return {}

    @app.delete("/items/{item_id}")
    async def delete(item_id: int):
        return {}

    return app


def _by_route(plans: list[Plan]) -> dict[tuple[str, str], Plan]:
    return {(p.method, p.path): p for p in plans}


def test_get_requests_are_filled_from_types_examples_and_bounds():
    plans = _by_route(openapi.plans(_schema_app().openapi(), unsafe=False))
    book = plans["GET", "/books/{book_id}"].request
    assert book is not None and book.path == "/books/1?lang=fr"  # optional `full` left out
    ranged = plans["GET", "/range"].request
    assert ranged is not None and ranged.path == "/range?n=10&kind=1"  # minimum; Optional's type
    headers = plans["GET", "/headers"].request
    assert headers is not None and headers.headers == (("x-tenant", "1"),)


def test_routes_the_schema_cannot_fill_are_skipped_with_the_reason_not_guessed():
    plans = _by_route(openapi.plans(_schema_app().openapi(), unsafe=True))
    user = plans["GET", "/users/{name}"]
    assert user.request is None
    assert user.reason is not None and "'name'" in user.reason and "pattern" in user.reason


def test_unsafe_methods_need_unsafe_and_then_get_a_body_built_from_the_schema():
    safe = _by_route(openapi.plans(_schema_app().openapi(), unsafe=False))
    for route in (("POST", "/items"), ("DELETE", "/items/{item_id}")):
        assert safe[route].request is None and "--unsafe" in (safe[route].reason or "")
    unsafe = _by_route(openapi.plans(_schema_app().openapi(), unsafe=True))
    post = unsafe["POST", "/items"].request
    assert post is not None
    assert post.json_body == {"item": {"name": "1", "price": 1.0, "tags": ["1"]}}
    delete = unsafe["DELETE", "/items/{item_id}"].request
    assert delete is not None and delete.path == "/items/1" and delete.json_body is None


def test_refs_enums_and_non_json_bodies():
    schema = {
        "paths": {
            "/colour/{c}": {
                "get": {
                    "parameters": [
                        {
                            "name": "c",
                            "in": "path",
                            "required": True,
                            "schema": {"$ref": "#/components/schemas/Colour"},
                        }
                    ]
                }
            },
            "/upload": {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {"multipart/form-data": {"schema": {"type": "object"}}},
                    }
                }
            },
        },
        "components": {"schemas": {"Colour": {"type": "string", "enum": ["red", "blue"]}}},
    }
    plans = _by_route(openapi.plans(schema, unsafe=True))
    colour = plans["GET", "/colour/{c}"].request
    assert colour is not None and colour.path == "/colour/red"
    upload = plans["POST", "/upload"]
    assert upload.request is None and "multipart/form-data" in (upload.reason or "")
    with pytest.raises(Unfillable, match="reference to nothing"):
        openapi.example(schema, {"$ref": "#/components/schemas/Nope"})


def test_scan_request_sends_its_headers_and_json_body():
    raw = Request("POST", "/x", {"a": 1}, (("X-Key", "k"),)).encode("127.0.0.1", 80)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"\r\nX-Key: k" in head and b"Content-Length: 8" in head and body == b'{"a": 1}'


# -- --requests files, targets, settings ---------------------------------------------------


def test_requests_file_json_lines_replaces_the_schema_request_and_keeps_the_unsafe_rule(tmp_path):
    path = tmp_path / "requests.jsonl"
    path.write_text(
        "# written by hand\n"
        '{"path": "/users/ada", "headers": {"X-Key": "k", "Host": "evil"}}\n'
        '{"method": "POST", "path": "/items", "json": {"name": "pen"}}\n'
        '{"path": "/extra?x=1"}\n'
    )
    written = userfile.load(path)
    declared = openapi.plans(_schema_app().openapi(), unsafe=False)
    merged = _by_route(userfile.merge(declared, written, unsafe=False))
    user = merged["GET", "/users/{name}"]
    assert user.request is not None and user.request.path == "/users/ada"
    assert user.request.headers == (("X-Key", "k"),)  # Host is the client's own
    assert merged["POST", "/items"].request is None  # written, but no --unsafe
    assert merged["GET", "/extra"].request is not None
    with_unsafe = _by_route(userfile.merge(declared, userfile.load(path), unsafe=True))
    post = with_unsafe["POST", "/items"].request
    assert post is not None and post.json_body == {"name": "pen"}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[{}]", "path must be"),
        ('[{"path": "/a", "verb": "GET"}]', "unknown keys"),
        ('[{"path": "/a", "method": "TRACE"}]', "method must be"),
        ('{"path": "/a"}\n{"path": ', "not valid JSON"),
        ('[{"path": "/a", "headers": {"A": 1}}]', "headers must be"),
    ],
)
def test_bad_requests_files_are_usage_errors(tmp_path, text, error):
    path = tmp_path / "r.json"
    path.write_text(text)
    with pytest.raises(UsageError, match=error):
        userfile.load(path)


def test_targets_in_both_forms(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "main.py").write_text("")
    (tmp_path / "app.py").write_text("")
    by_module = parse_target("pkg.main:api", cwd=tmp_path)
    assert by_module.module == "pkg.main" and by_module.attribute == "api"
    assert by_module.root == tmp_path.resolve()
    assert "--module" in by_module.harness_args()
    by_file = parse_target("app.py", cwd=tmp_path)
    assert by_file.module is None and by_file.attribute == "app"
    assert parse_target("app.py:application", cwd=tmp_path).attribute == "application"
    for bad, error in [
        ("nope.py", "no such file"),
        ("pkg.other:app", "no module"),
        ("app.py:not-a-name", "not an attribute"),
        ("justaname", "neither"),
    ]:
        with pytest.raises(UsageError, match=error):
            parse_target(bad, cwd=tmp_path)


def test_settings_from_an_env_file_then_the_command_line(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("# settings\nexport DATABASE_URL='sqlite://'\nMODE=dev\n\n")
    assert parse_env(["MODE=prod"], env_file) == {"DATABASE_URL": "sqlite://", "MODE": "prod"}
    env_file.write_text("NOT A PAIR\n")
    with pytest.raises(UsageError, match=r"\.env:1"):
        parse_env([], env_file)


# -- verdicts from synthetic figures -------------------------------------------------------


def _s(**kw: object) -> Summary:
    base: dict[str, object] = dict(
        alone=0.1,
        alone_status=200,
        alone_error=None,
        sent=20,
        answered=20,
        max_latency=0.11,
        parallelism=18.0,
        loop_lag=0.004,
        late_probes=0,
        cpu_busy=0.1,
    )
    base.update(kw)
    return Summary(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("figures", "verdict"),
    [
        (_s(), "fine"),
        # a 2 ms route 20 times over: 15x slower, but 30 ms is nothing a person notices
        (_s(alone=0.002, max_latency=0.03, parallelism=1.3), "fine"),
        # one late probe is the machine's noise, not a blocked loop
        (_s(loop_lag=0.15, late_probes=1), "fine"),
        (_s(loop_lag=1.9, late_probes=80, max_latency=1.6, parallelism=1.0), "blocks-loop"),
        (_s(max_latency=1.5, parallelism=1.0), "serialised"),
        (_s(max_latency=0.25, parallelism=8.0, tokens_peak=40, tokens_total=40), "pool-queued"),
        # two waves through the thread pool's 40 tokens: twice the latency alone
        (_s(alone=0.4, max_latency=0.8, parallelism=24.0, sent=50), "pool-queued"),
        # a slow route that contends a little under the burst is not queued
        (_s(alone=1.0, max_latency=1.2, parallelism=16.0), "fine"),
        (_s(max_latency=1.5, parallelism=1.0, cpu_busy=0.95), "blocks-loop"),
        (_s(server_errors=15), "errors"),
        (_s(dropped=3), "errors"),
        (_s(alone_status=500, sent=0, answered=0, max_latency=None), "errors"),
        (_s(alone=None, alone_error="no answer within 5 s", sent=0, max_latency=None), "errors"),
        (
            _s(
                alone=None,
                alone_error="no answer",
                sent=0,
                max_latency=None,
                loop_lag=5.0,
                late_probes=9,
            ),
            "blocks-loop",
        ),
        (_s(died="exited with status 1"), "errors"),
    ],
)
def test_classification(figures, verdict):
    got, why = classify(figures)
    assert got == verdict, why
    assert why


def test_pool_queued_says_whether_the_thread_pool_was_full():
    _, full = classify(_s(max_latency=0.25, parallelism=8.0, tokens_peak=40, tokens_total=40))
    _, smaller = classify(_s(max_latency=0.25, parallelism=5.0, tokens_peak=5, tokens_total=40))
    assert "all 40 thread-pool tokens" in full and "5 of 40" in smaller


# -- the command line ------------------------------------------------------------------------


def test_help():
    done = run_cli("scan", "--help")
    assert done.returncode == 0 and "module:attribute" in done.stdout and "--unsafe" in done.stdout


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["scan"], "required"),
        (["scan", "tests/scan_apps/nope.py"], "no such file"),
        (["scan", "nope:app"], "no module"),
        (["scan", "-n", "0", "tests/scan_apps/shop.py"], "between 1 and 500"),
        (["scan", "--env", "NOEQUALS", "tests/scan_apps/shop.py"], "KEY=VALUE"),
        (["scan", "--requests", "missing.json", "tests/scan_apps/shop.py"], "cannot read"),
        (["scan", "--html", "no/such/dir/r.html", "tests/scan_apps/shop.py"], "no such folder"),
    ],
)
def test_usage_errors_exit_2_and_start_nothing(args, reason):
    done = run_cli(*args, wait_at_most=30)
    assert done.returncode == 2, done.stderr
    assert reason in done.stderr and "usage:" in done.stderr and done.stdout == ""


# -- real scans -------------------------------------------------------------------------------


def _scan(*args: str, cwd: Path = ROOT, wait_at_most: float = 150) -> tuple[int, dict, float]:
    code, out, err, took = scan_json(*args, cwd=cwd, wait_at_most=wait_at_most)
    assert out, err
    return code, out, took


@contextlib.contextmanager
def calls_file() -> Iterator[Path]:
    """A copy of counter.py beside the file it appends its calls to, in a folder everyone
    may write to (not sticky): the sandbox then lets the app write there, and only there."""
    folder = Path(tempfile.mkdtemp(prefix="scan-calls-", dir="/tmp"))
    shutil.copy(APPS / "counter.py", folder / "counter.py")
    folder.chmod(0o777)
    path = folder / "calls"
    path.touch()
    path.chmod(0o666)
    try:
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _problem_lines(*files: Path) -> dict[str, str]:
    """``# PROBLEM: blocks-loop`` markers: the diagnosis each must get, by function."""
    found = {}
    for path in files:
        func = None
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if m := re.match(r"\s*(?:async )?def (\w+)", line):
                func = m.group(1)
            if "# PROBLEM: blocks-loop" in line:
                code = line.split("#")[0].strip()
                found[func] = f"{path.name}:{number} in {func}: {code}"
    return found


SHOP_VERDICTS = {
    ("GET", "/health"): "fine",
    ("GET", "/books/{book_id}"): "fine",
    ("GET", "/search"): "fine",
    ("GET", "/slow"): "fine",
    ("GET", "/convert"): "fine",
    ("GET", "/report"): "blocks-loop",
    ("GET", "/profile/{user_id}"): "blocks-loop",
    ("GET", "/admin/stats"): "blocks-loop",
    ("GET", "/inventory"): "serialised",
    ("GET", "/export"): "pool-queued",
    ("GET", "/quote"): "errors",
    ("POST", "/orders"): "skipped",
}
SHOP_BLOCKERS = {  # route: the function whose line blocks the loop
    "/report": "report",
    "/profile/{user_id}": "current_user",
    "/admin/stats": "audit_admin",
}


@pytest.mark.slow
def test_scan_names_every_problem_route_with_its_kind_and_line_and_no_clean_one(tmp_path):
    html = tmp_path / "report.html"
    with calls_file() as calls:
        # more than the thread pool's 40 tokens at once, so a pool ceiling can show
        code, out, took = _scan(
            str(APPS / "shop.py"),
            "-n",
            "50",
            "--html",
            str(html),
            "--env",
            f"SCAN_CALLS_FILE={calls}",
        )
        assert calls.read_text() == ""  # POST /orders never sent without --unsafe
    routes = {(r["method"], r["path"]): r for r in out["routes"]}
    got = {k: r["verdict"] for k, r in routes.items()}
    assert got == SHOP_VERDICTS, json.dumps(out["routes"], indent=1)[:4000]
    lines = _problem_lines(APPS / "shop.py", APPS / "shop_deps.py")
    for path, func in SHOP_BLOCKERS.items():
        assert routes["GET", path]["diagnosis"] == lines[func]
    for key, route in routes.items():
        if key[1] not in SHOP_BLOCKERS:
            assert route["diagnosis"] is None
    assert "--unsafe" in routes["POST", "/orders"]["reason"]
    assert routes["GET", "/export"]["figures"]["threads_in_use"] == 40
    assert code == 1 and out["ok"] is False
    page = html.read_text()
    assert page.count("data:image/png;base64,") == len(SHOP_VERDICTS) - 1  # all but skipped
    print(f"scan of shop.py took {took:.1f} s ({out['scan_s']} s scanning)")


@pytest.mark.slow
def test_unsafe_rule_holds_and_routes_it_cannot_call_are_listed_with_a_reason(tmp_path):
    requests = tmp_path / "requests.json"
    requests.write_text(
        json.dumps(
            [
                {"path": "/codes/ABC"},
                {"method": "POST", "path": "/orders", "json": {"item": "from-file", "quantity": 2}},
            ]
        )
    )
    with calls_file() as calls:
        env = f"SCAN_CALLS_FILE={calls}"
        # the module:attribute form, read from the current directory as uvicorn does
        code, out, _ = _scan(
            "counter:app", "-n", "5", "--env", env, "--requests", str(requests), cwd=calls.parent
        )
        assert calls.read_text() == ""
        routes = {(r["method"], r["path"]): r for r in out["routes"]}
        for key in [
            ("POST", "/orders"),
            ("PUT", "/orders/{order_id}"),
            ("DELETE", "/orders/{order_id}"),
        ]:
            assert routes[key]["verdict"] == "skipped" and "--unsafe" in routes[key]["reason"]
        assert routes["GET", "/codes/{code}"]["verdict"] == "fine"  # filled by the file
        assert routes["GET", "/codes/{code}"]["request"] == "/codes/ABC"
        assert code == 0, out

        code, out, _ = _scan(
            "counter:app",
            "-n",
            "5",
            "--env",
            env,
            "--requests",
            str(requests),
            "--unsafe",
            cwd=calls.parent,
        )
        sent = calls.read_text().splitlines()
    routes = {(r["method"], r["path"]): r for r in out["routes"]}
    # each measured route: two requests alone, then 5 at once
    assert sent.count("POST /orders from-file 2") == 7
    assert sent.count("PUT /orders/1") == 7 and sent.count("DELETE /orders/1") == 7
    assert routes["POST", "/import"]["verdict"] == "skipped"
    assert "text/csv" in routes["POST", "/import"]["reason"]
    assert not any("/import" in line for line in sent)
    assert code == 0, out

    code, out, _ = _scan(str(APPS / "counter.py"), "-n", "5", "--env", "SCAN_CALLS_FILE=/dev/null")
    codes = {(r["method"], r["path"]): r for r in out["routes"]}["GET", "/codes/{code}"]
    assert codes["verdict"] == "skipped" and "pattern" in codes["reason"]  # not guessed


@pytest.mark.slow
@pytest.mark.parametrize(
    ("app", "says"),
    [
        ("no_app.py", "defines no module-level `app`"),
        ("settings_app.py", "needs the setting DATABASE_URL"),
        ("lifespan_db.py", "lifespan startup failed"),
        ("flood_app.py", "64 MiB of output"),
    ],
)
def test_an_app_that_cannot_serve_gets_a_clear_answer(app, says):
    code, out, took = _scan(str(APPS / app))
    assert code == 1 and out["routes"] == []
    assert says in out["error"], out["error"]
    assert took < 40


@pytest.mark.slow
def test_settings_reach_the_app():
    code, out, _ = _scan(
        str(APPS / "settings_app.py"), "-n", "5", "--env", "DATABASE_URL=sqlite://"
    )
    assert code == 0 and [r["verdict"] for r in out["routes"]] == ["fine"]


@pytest.mark.slow
def test_hanging_routes_are_named_in_bounded_time_and_the_others_still_measured():
    code, out, took = _scan(str(APPS / "hang_app.py"), "-n", "5", "--timeout", "1")
    routes = {r["path"]: r for r in out["routes"]}
    assert routes["/waits-forever"]["verdict"] == "errors"
    assert "no answer" in routes["/waits-forever"]["reason"]
    assert routes["/freezes"]["verdict"] == "blocks-loop"
    assert routes["/freezes"]["diagnosis"] == _problem_lines(APPS / "hang_app.py")["freezes"]
    assert routes["/ok"]["verdict"] == routes["/after"]["verdict"] == "fine"
    assert code == 1 and took < 40


@pytest.mark.parametrize(
    ("message", "named"),
    [
        (
            "the submission does not import: KeyError: 'API_KEY'\n  x = os.environ['API_KEY']",
            "API_KEY",
        ),
        (
            "the submission does not import: ValidationError: 1 validation error for Settings\n"
            "database_url\n  Field required [type=missing]",
            "DATABASE_URL",
        ),
        ("the submission does not import: RuntimeError: REDIS_URL is not set", "REDIS_URL"),
    ],
)
def test_an_import_failing_for_a_setting_names_the_variable(message, named):
    assert f"--env {named}=" in explain_start_failure(message, {})
    assert explain_start_failure(message, {named: "x"}).startswith("the submission")


def test_table_and_html_report_from_synthetic_figures(tmp_path):
    from autograder.measure.load import Request, Response
    from autograder.scan import report
    from autograder.scan.measure import Measured
    from autograder.scan.run import RouteResult, ScanResult

    burst = [
        Response(Request("GET", "/a"), start=10.0, end=10.0 + 0.1 * (i + 1), status=200)
        for i in range(5)
    ]
    probes = [
        Response(Request("GET", "/p"), start=10.0 + 0.02 * i, end=10.01 + 0.02 * i, status=200)
        for i in range(20)
    ]
    summary = _s(sent=5, answered=5, max_latency=0.5, parallelism=1.0)
    measured = Measured(summary, [], burst, probes, 10.0, 9.8, 10.6, 1.5, {"200": 5})
    verdict, why = classify(summary)
    result = ScanResult(
        "app.py",
        [
            RouteResult(
                "GET", "/a", verdict, reason=why, figures={"alone_ms": 100.0}, measured=measured
            ),
            RouteResult(
                "POST", "/b", "skipped", reason="POST changes data: not sent without --unsafe"
            ),
        ],
        concurrency=5,
    )
    text = report.table(result)
    assert "SERIALISED" in text and "reason: POST changes data" in text
    page = tmp_path / "r.html"
    report.write_html(result, page)
    html = page.read_text()
    assert html.count("data:image/png;base64,") == 1 and "/b" in html
    assert result.to_dict()["routes"][0]["verdict"] == "serialised" and not result.all_fine


def test_thread_tokens_in_use_during_a_route_not_the_previous_one():
    from autograder.scan.measure import tokens_in_window

    def rec(t: float, n: int) -> dict:
        return {"kind": "tokens", "t": t, "borrowed": n, "total": 40}

    # the previous route released its 20 tokens 3 ms into this one's window
    assert tokens_in_window([rec(1.0, 20), rec(10.003, 0)], 10.0, 12.0) == (0, 40)
    # a route that borrows them all
    assert tokens_in_window(
        [rec(1.0, 0), rec(10.5, 12), rec(10.6, 40), rec(11.0, 0)], 10.0, 12.0
    ) == (
        40,
        40,
    )
    # held since before the window, unchanged throughout (a background worker)
    assert tokens_in_window([rec(1.0, 30)], 10.0, 12.0) == (30, 40)
    assert tokens_in_window([], 10.0, 12.0) == (None, None)


def test_the_timeline_shows_the_probes_a_blocked_loop_never_answered():
    """While the loop is blocked no probe is answered: the picture draws each one at the
    time it had waited when probing stopped, as the loop lag counts it."""
    from autograder.measure.load import Request, Response
    from autograder.scan import report
    from autograder.scan.measure import Measured
    from autograder.scan.run import RouteResult

    burst = [Response(Request("GET", "/d"), start=10.0, end=11.5, status=200)]
    answered = [
        Response(Request("GET", "/p"), start=10.0 + 0.02 * i, end=10.005 + 0.02 * i, status=200)
        for i in range(5)
    ]
    stuck = [Response(Request("GET", "/p"), start=10.1 + 0.02 * i) for i in range(50)]
    summary = _s(sent=1, answered=1, max_latency=1.5, loop_lag=1.9, late_probes=50)
    measured = Measured(
        summary, [], burst, answered + stuck, 10.0, 9.8, 12.1, 1.5, {}, probes_stopped=12.0
    )
    fig = report.figure(RouteResult("GET", "/d", "blocks-loop", measured=measured))
    assert fig is not None
    drawn = [y for line in fig.axes[1].lines for y in line.get_ydata()]
    assert len(drawn) >= 55  # the answered probes and the stuck ones (and the 100 ms line)
    assert max(drawn) == pytest.approx(1900.0)  # the first stuck probe: 12.0 - 10.1 s
    assert fig.axes[0].get_xlim()[1] >= 2000  # the axis reaches the last probe sent
    assert report.figure(RouteResult("POST", "/x", "skipped")) is None


def test_a_route_that_fails_alone_says_what_the_app_logged():
    from autograder.scan.measure import logged_error

    report = [
        {"kind": "log", "t": 1.0, "levelno": 40, "message": "old: ValueError: before"},
        {"kind": "tokens", "t": 10.2},
        {
            "kind": "log",
            "t": 10.5,
            "levelno": 40,
            "message": "Exception in ASGI application\nTraceback (most recent call last):\n"
            '  File "x.py", line 3\nimportlib.metadata.PackageNotFoundError: No package '
            "metadata was found for lso",
        },
    ]
    said = logged_error(report, 10.0, 12.0)
    assert said == "importlib.metadata.PackageNotFoundError: No package metadata was found for lso"
    assert logged_error(report, 11.0, 12.0) is None
    verdict, why = classify(
        Summary(alone=0.002, alone_status=500, alone_error=None, logged_error=said)
    )
    assert verdict == "errors" and "even alone: the app logged importlib.metadata" in why
