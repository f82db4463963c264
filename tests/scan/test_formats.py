"""The scan's CI outputs: SARIF, JUnit XML and ``--fail-on``.

Fast tests build :class:`ScanResult` objects directly; one slow test scans shop.py
through the command line and follows the SARIF result to the line that blocks the loop.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from autograder.scan import formats
from autograder.scan.classify import VERDICTS
from autograder.scan.run import RouteResult, ScanResult
from tests.conftest import ROOT, run_cli

APPS = ROOT / "tests" / "scan_apps"


def _result(error: str | None = None) -> ScanResult:
    return ScanResult(
        "shop.py",
        [
            RouteResult(
                "GET",
                "/health",
                "fine",
                reason="20 at once took at most 6 ms",
                figures={"alone_ms": 1.0},
            ),
            RouteResult(
                "GET",
                "/report",
                "blocks-loop",
                diagnosis="shop.py:76 in report: time.sleep(0.2)",
                reason="the event loop was blocked for up to 1904 ms (95 probes late)",
                figures={"alone_ms": 203.0, "loop_lag_ms": 1904.0, "timeline": [{"start_ms": 0}]},
            ),
            RouteResult(
                "GET",
                "/profile/{user_id}",
                "blocks-loop",
                diagnosis="deps/users.py:7 in current_user: time.sleep(0.15)",
                reason="the event loop was blocked",
            ),
            RouteResult(
                "GET",
                "/hash",
                "blocks-loop",
                reason="CPU-bound; no single line of the app held the loop (GIL contention)",
            ),
            RouteResult("GET", "/inventory", "serialised", reason="one after another"),
            RouteResult("GET", "/export", "pool-queued", reason="all 40 thread-pool tokens"),
            RouteResult("GET", "/quote", "errors", reason="under 20 at once 7 answered 5xx"),
            RouteResult("POST", "/orders", "skipped", reason="not sent without --unsafe"),
        ],
        error=error,
        concurrency=20,
        seconds=6.5,
    )


def _results_by_route(doc: dict) -> dict[str, dict]:
    return {r["locations"][0]["logicalLocations"][0]["name"]: r for r in doc["runs"][0]["results"]}


# -- SARIF ------------------------------------------------------------------------------------


def test_sarif_is_one_run_of_2_1_0_whose_results_reference_its_rules():
    doc = formats.sarif(_result())
    json.dumps(doc)  # serialisable as it is
    assert doc["version"] == "2.1.0" and "sarif-2.1.0" in doc["$schema"]
    assert len(doc["runs"]) == 1
    driver = doc["runs"][0]["tool"]["driver"]
    rules = driver["rules"]
    assert driver["name"] == formats.TOOL
    assert [r["id"] for r in rules] == ["blocks-loop", "serialised", "pool-queued", "errors"]
    assert {r["id"] for r in rules} == set(VERDICTS) - {"fine", "skipped"}
    for rule in rules:
        for key in ("shortDescription", "fullDescription", "help"):
            assert rule[key]["text"]
        assert "helpUri" not in rule
    results = doc["runs"][0]["results"]
    # one per route that is not fine; skipped is not a finding
    assert len(results) == 6
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] == ("error" if r["ruleId"] == "blocks-loop" else "warning")
    assert doc["runs"][0]["invocations"][0]["executionSuccessful"] is True
    notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any("POST /orders skipped" in n["message"]["text"] for n in notes)


def test_a_blocking_line_is_a_physical_location_relative_to_the_app_root():
    by_route = _results_by_route(formats.sarif(_result()))
    report = by_route["GET /report"]
    physical = report["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "shop.py", "uriBaseId": "%SRCROOT%"}
    assert physical["region"]["startLine"] == 76
    assert physical["region"]["snippet"]["text"] == "time.sleep(0.2)"
    text = report["message"]["text"]
    assert text.startswith("GET /report") and "1904 ms" in text
    assert "timeline" not in report["properties"]["figures"]
    deps = by_route["GET /profile/{user_id}"]["locations"][0]["physicalLocation"]
    assert deps["artifactLocation"]["uri"] == "deps/users.py"
    assert deps["region"]["startLine"] == 7


def test_a_route_with_no_line_gets_a_logical_location_naming_it():
    no_line = ("GET /hash", "GET /inventory", "GET /export", "GET /quote")
    by_route = _results_by_route(formats.sarif(_result()))
    for route in no_line:
        (loc,) = by_route[route]["locations"]
        assert "physicalLocation" not in loc
        assert loc["logicalLocations"][0]["fullyQualifiedName"] == route
    # code scanning rejects a file with a result that names no file: the command line
    # anchors such results at the app's module, line 1, beside the logical location
    by_route = _results_by_route(formats.sarif(_result(), app_file="shop.py"))
    for route in no_line:
        (loc,) = by_route[route]["locations"]
        assert loc["logicalLocations"][0]["name"] == route
        assert loc["physicalLocation"]["artifactLocation"]["uri"] == "shop.py"
        assert loc["physicalLocation"]["region"] == {"startLine": 1}
    deps = by_route["GET /profile/{user_id}"]["locations"][0]["physicalLocation"]
    assert deps["artifactLocation"]["uri"] == "deps/users.py"  # a named line wins


def test_sarif_of_an_app_that_cannot_be_served():
    doc = formats.sarif(ScanResult("app.py", error="the submission does not import"))
    run = doc["runs"][0]
    assert run["results"] == [] and run["invocations"][0]["executionSuccessful"] is False
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert note["level"] == "error" and "does not import" in note["message"]["text"]


def test_diagnosis_parsing():
    assert formats.location("a:b/c.py:12 in f: x = 1:2") == ("a:b/c.py", 12, "f", "x = 1:2")
    assert formats.location(None) is None and formats.location("no line here") is None


# -- JUnit ------------------------------------------------------------------------------------


def test_junit_is_one_testsuite_with_a_testcase_per_route():
    root = ET.fromstring(formats.junit(_result()))
    (suite,) = root.iter("testsuite")
    assert suite.get("name") == "scan"
    cases = suite.findall("testcase")
    assert len(cases) == 8 and suite.get("tests") == "8"
    assert suite.get("failures") == "6" and suite.get("skipped") == "1"
    by_name = {(c.get("classname"), c.get("name")): c for c in cases}
    health = by_name["GET", "/health"]
    assert health.find("failure") is None and health.find("skipped") is None
    failure = by_name["GET", "/report"].find("failure")
    assert failure is not None and failure.get("type") == "blocks-loop"
    assert failure.get("message") == "the event loop was blocked for up to 1904 ms (95 probes late)"
    assert "where: shop.py:76 in report" in (failure.text or "")
    skipped = by_name["POST", "/orders"].find("skipped")
    assert skipped is not None and "--unsafe" in (skipped.get("message") or "")


def test_junit_of_an_app_that_cannot_be_served_is_one_error():
    root = ET.fromstring(formats.junit(ScanResult("app.py", error="lifespan <startup> failed")))
    (case,) = root.iter("testcase")
    error = case.find("error")
    assert error is not None and error.get("message") == "lifespan <startup> failed"


# -- --fail-on --------------------------------------------------------------------------------


def test_fail_on_parsing():
    assert formats.parse_fail_on("blocks-loop") == {"blocks-loop"}
    assert formats.parse_fail_on(" errors, blocks-loop ,") == {"errors", "blocks-loop"}
    assert formats.parse_fail_on("skipped") == {"skipped"}
    assert formats.parse_fail_on("none") == set()
    for bad, says in [("slow", "'slow'"), ("fine", "never fails"), ("", "give verdicts")]:
        with pytest.raises(argparse.ArgumentTypeError, match=says):
            formats.parse_fail_on(bad)


def test_exit_status_follows_fail_on():
    result = _result()
    assert formats.exit_status(result) == 1  # the default: every verdict that is not fine
    assert formats.exit_status(result, frozenset({"blocks-loop"})) == 1
    result.routes = [r for r in result.routes if r.verdict != "blocks-loop"]
    assert formats.exit_status(result, frozenset({"blocks-loop"})) == 0
    assert formats.exit_status(result, frozenset()) == 0
    fine = ScanResult(
        "app.py", [RouteResult("GET", "/", "fine"), RouteResult("POST", "/", "skipped")]
    )
    assert formats.exit_status(fine) == 0 and fine.all_fine
    assert formats.exit_status(fine, frozenset({"skipped"})) == 1
    # an app that cannot be served fails whatever --fail-on says
    assert formats.exit_status(ScanResult("app.py", error="no app"), frozenset()) == 1


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--fail-on", "slow"], "unknown verdict 'slow'"),
        (["--fail-on", "blocks-loop,fast"], "unknown verdict 'fast'"),
        (["--sarif", "no/such/dir/scan.sarif"], "no such folder"),
        (["--junit", "no/such/dir/junit.xml"], "no such folder"),
    ],
)
def test_bad_ci_options_are_usage_errors(args, reason):
    done = run_cli("scan", *args, "tests/scan_apps/shop.py", wait_at_most=30)
    assert done.returncode == 2, done.stderr
    assert reason in done.stderr and "usage:" in done.stderr and done.stdout == ""


# -- a real scan ------------------------------------------------------------------------------


def _line_of(path, func: str, code: str) -> int:
    """The number of the line ``code`` in function ``func`` of ``path``."""
    inside = None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if m := re.match(r"\s*(?:async )?def (\w+)", line):
            inside = m.group(1)
        if inside == func and line.strip().startswith(code):
            return number
    raise AssertionError(f"no {code!r} in {func} of {path}")


@pytest.mark.slow
def test_sarif_and_junit_of_a_real_scan_point_at_the_blocking_line(tmp_path):
    """Three routes of shop.py only (--requests, and no schema to read), so the test costs
    a few seconds rather than the full scan test_scan.py already makes."""
    requests = tmp_path / "requests.json"
    requests.write_text(
        json.dumps([{"path": "/report"}, {"path": "/health"}, {"path": "/inventory"}])
    )
    sarif, junit = tmp_path / "scan.sarif", tmp_path / "junit.xml"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "scan",
            str(APPS / "shop.py"),
            "-n",
            "10",
            "--openapi",
            "/not-served",
            "--requests",
            str(requests),
            "--sarif",
            str(sarif),
            "--junit",
            str(junit),
            "--fail-on",
            "blocks-loop",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 1, done.stdout + done.stderr  # /report blocks the loop
    doc = json.loads(sarif.read_text())
    by_route = _results_by_route(doc)
    assert set(by_route) == {"GET /report", "GET /inventory"}, done.stdout
    report = by_route["GET /report"]
    assert report["ruleId"] == "blocks-loop" and report["level"] == "error"
    physical = report["locations"][0]["physicalLocation"]
    uri = physical["artifactLocation"]["uri"]
    assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert uri == "tests/scan_apps/shop.py"  # from where the scan ran: the repository's top
    assert physical["region"]["startLine"] == _line_of(APPS / "shop.py", "report", "time.sleep(")
    inventory = by_route["GET /inventory"]
    assert inventory["ruleId"] == "serialised" and inventory["level"] == "warning"
    # every result names a file (code scanning rejects the upload otherwise)
    assert inventory["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri
    cases = {c.get("name"): c for c in ET.fromstring(junit.read_text()).iter("testcase")}
    assert set(cases) == {"/report", "/health", "/inventory"}
    assert cases["/health"].find("failure") is None
    failure = cases["/report"].find("failure")
    assert failure is not None and failure.get("type") == "blocks-loop"
