"""The scan's outputs for CI systems: SARIF 2.1.0 (code scanning), JUnit XML (test
reports), and which verdicts fail the pipeline (``--fail-on``).

Pure functions of a :class:`~autograder.scan.run.ScanResult`, standard library only.

SARIF levels: ``blocks-loop`` is an ``error``: while that line runs, no request of the
whole service is served, and the scan names the line. The other verdicts are
``warning``\\ s: each is one route's capacity at the concurrency the scan chose (``-n``),
which may be a deliberate limit (a pool that sheds load with 503s) or depend on the
request the scan made up, and names no line. Whether a verdict fails the pipeline is
``--fail-on``'s business, not the level's.

Skipped routes are not findings: SARIF lists them as notifications of the run (so
code scanning does not raise an alert for every POST sent without ``--unsafe``);
JUnit marks them ``<skipped>``.
"""

from __future__ import annotations

import argparse
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograder.scan.classify import VERDICTS

if TYPE_CHECKING:
    from autograder.scan.run import RouteResult, ScanResult

TOOL = "fastapi-concurrency-scan"
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
NOT_FINE = tuple(v for v in VERDICTS if v not in ("fine", "skipped"))  # fail by default
FAILABLE = (*NOT_FINE, "skipped")  # --fail-on's names ("fine" never fails)

# verdict: (rule name, level, short description, full description, help)
RULES: dict[str, tuple[str, str, str, str, str]] = {
    "blocks-loop": (
        "BlocksEventLoop",
        "error",
        "A request blocks the event loop",
        "Under concurrent load the event loop stopped answering (the scan's probe waited "
        "100 ms or more), or the route computed on the loop: while it runs, no other "
        "request of the whole service is served.",
        "Do not block in `async def` code (route, dependency, middleware). Await an async "
        "client (asyncio.sleep, httpx.AsyncClient, an async database driver); make the "
        "function a plain `def` so FastAPI runs it in the thread pool; or hand blocking or "
        "CPU-bound work to `await asyncio.to_thread(...)` / a process pool.",
    ),
    "serialised": (
        "Serialised",
        "warning",
        "Concurrent requests are served one at a time",
        "Under concurrent load the route's requests queued and were answered about one at "
        "a time while the event loop stayed free: a lock, a single shared connection or "
        "a queue of one.",
        "Find what the requests share (an asyncio.Lock, one connection, a semaphore of "
        "one) and hold it for less time, or give each request its own (a connection pool).",
    ),
    "pool-queued": (
        "PoolQueued",
        "warning",
        "Concurrent requests queue on a pool ceiling",
        "Under concurrent load the route's requests were served several at a time but fewer "
        "than were sent: a ceiling such as the thread pool's 40 tokens (a `def` route), a "
        "connection pool or a semaphore.",
        "Check which ceiling is reached (the scan says whether all thread-pool tokens were "
        "in use). Make slow `def` routes `async def` with async clients, or raise the ceiling "
        "to the concurrency expected in production.",
    ),
    "errors": (
        "ErrorsUnderLoad",
        "warning",
        "The route fails under load",
        "The route answered 5xx or dropped connections (alone or under concurrent load), "
        "hung with the event loop free, or the app's process died.",
        "Read the reason: a 5xx alone may be the request the scan built (write a realistic "
        "one with --requests); 5xx only under load is usually a pool or limit that does "
        "not wait; a hang is an await that never completes (add a timeout).",
    ),
}

_WHERE = re.compile(r"^(?P<file>.+?):(?P<line>\d+) in (?P<func>[^:]+): ?(?P<source>.*)$")


def location(diagnosis: str | None) -> tuple[str, int, str, str] | None:
    """``(file, line, function, source)`` from ``file:line in function: source``."""
    if not diagnosis:
        return None
    m = _WHERE.match(diagnosis)
    if not m:
        return None
    return m["file"], int(m["line"]), m["func"], m["source"]


def _figures(r: RouteResult) -> dict[str, Any]:
    """The route's figures without the per-request timeline (the HTML report draws it)."""
    return {k: v for k, v in r.figures.items() if k != "timeline"}


def _route_name(r: RouteResult) -> str:
    return f"{r.method} {r.path}"


def sarif(result: ScanResult, *, app_file: str | None = None, prefix: str = "") -> dict[str, Any]:
    """The scan as one SARIF 2.1.0 run: one result per route that is not fine (and not
    skipped), located at the line that blocked the loop when the scan names one, and
    always at a logical location naming the route. Paths are relative to the app's root,
    after ``prefix`` (the root from the repository's top, ``src/`` in a src layout), under
    ``%SRCROOT%``.

    ``app_file`` (the app's module, from its root): where a result with no line is
    anchored (line 1), beside its logical location. GitHub's code scanning rejects the
    whole file when one result has no physical location; without ``app_file`` such a
    result has its logical location only, as SARIF allows."""
    ids = list(RULES)
    rules = [
        {
            "id": verdict,
            "name": name,
            "shortDescription": {"text": short},
            "fullDescription": {"text": full},
            "help": {"text": help_text},
            "defaultConfiguration": {"level": level},
            "properties": {"tags": ["performance", "concurrency", "fastapi"]},
        }
        for verdict, (name, level, short, full, help_text) in RULES.items()
    ]
    results = []
    for r in result.routes:
        if r.verdict not in RULES:
            continue
        rule = RULES[r.verdict]
        route = _route_name(r)
        logical = {"name": route, "fullyQualifiedName": route, "kind": "function"}
        loc: dict[str, Any] = {"logicalLocations": [logical]}
        where = location(r.diagnosis)
        if where is None and app_file is not None:
            where = (app_file, 1, "", "")
        if where is not None:
            file, line, _func, source = where
            region: dict[str, Any] = {"startLine": line}
            if source:
                region["snippet"] = {"text": source}
            loc["physicalLocation"] = {
                "artifactLocation": {
                    "uri": (Path(prefix) / file).as_posix(),
                    "uriBaseId": SRCROOT,
                },
                "region": region,
            }
        text = f"{route}: {r.verdict}"
        if r.diagnosis:
            text += f" at {r.diagnosis}"
        if r.reason:
            text += f"; why: {r.reason}"
        results.append(
            {
                "ruleId": r.verdict,
                "ruleIndex": ids.index(r.verdict),
                "level": rule[1],
                "message": {"text": text},
                "locations": [loc],
                "partialFingerprints": {"scanRoute/v1": f"{route}|{r.verdict}"},
                "properties": {
                    "method": r.method,
                    "path": r.path,
                    "request": r.sent,
                    "figures": _figures(r),
                },
            }
        )
    notes = []
    if result.error:
        notes.append(
            {"level": "error", "message": {"text": f"the app could not be served: {result.error}"}}
        )
    notes += [
        {"level": "note", "message": {"text": f"{_route_name(r)} skipped: {r.reason}"}}
        for r in result.routes
        if r.verdict == "skipped"
    ]
    notes += [{"level": "note", "message": {"text": n}} for n in result.notes]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": TOOL, "rules": rules}},
                "invocations": [
                    {
                        "executionSuccessful": result.error is None,
                        "commandLine": f"python -m autograder scan {result.target}",
                        "toolExecutionNotifications": notes,
                    }
                ],
                "results": results,
                "columnKind": "unicodeCodePoints",
                "properties": {
                    "target": result.target,
                    "concurrency": result.concurrency,
                    "scan_s": round(result.seconds, 2),
                },
            }
        ],
    }


def junit(result: ScanResult) -> str:
    """JUnit XML: one testsuite ``scan``, one testcase per route (classname = method,
    name = path): ``<failure>`` when not fine, ``<skipped>`` when not called. An app that
    cannot be served is one testcase with an ``<error>``."""
    cases = []
    for r in result.routes:
        case = ET.Element("testcase", classname=r.method, name=r.path)
        alone = r.figures.get("alone_ms")
        case.set("time", f"{(alone or 0) / 1000:.3f}")
        if r.verdict == "skipped":
            ET.SubElement(case, "skipped", message=r.reason or "not called")
        elif r.verdict != "fine":
            failure = ET.SubElement(case, "failure", type=r.verdict, message=r.reason or r.verdict)
            body = [f"{_route_name(r)}: {r.verdict}"]
            if r.diagnosis:
                body.append(f"where: {r.diagnosis}")
            if r.reason:
                body.append(f"why: {r.reason}")
            failure.text = "\n".join(body)
        if r.figures:
            ET.SubElement(case, "system-out").text = json.dumps(_figures(r), sort_keys=True)
        cases.append(case)
    if result.error:
        case = ET.Element("testcase", classname="scan", name="serve the app", time="0")
        ET.SubElement(case, "error", type="not-served", message=result.error).text = result.error
        cases.append(case)
    suite = ET.Element(
        "testsuite",
        name="scan",
        tests=str(len(cases)),
        failures=str(sum(c.find("failure") is not None for c in cases)),
        errors=str(sum(c.find("error") is not None for c in cases)),
        skipped=str(sum(c.find("skipped") is not None for c in cases)),
        time=f"{result.seconds:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="target", value=result.target)
    ET.SubElement(properties, "property", name="concurrency", value=str(result.concurrency))
    suite.extend(cases)
    root = ET.Element("testsuites", name=TOOL)
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def parse_fail_on(text: str) -> frozenset[str]:
    """``--fail-on``: comma-separated verdicts, or ``none``; argparse's ``type``."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if names == ["none"]:
        return frozenset()
    unknown = [n for n in names if n not in FAILABLE]
    if not names or unknown:
        said = f"unknown verdict {', '.join(map(repr, unknown))}: " if unknown else ""
        if "fine" in unknown:
            said = "'fine' never fails: "
        raise argparse.ArgumentTypeError(
            f"{said}give verdicts from {', '.join(FAILABLE)} (comma-separated), or none"
        )
    return frozenset(names)


def exit_status(result: ScanResult, fail_on: frozenset[str] = frozenset(NOT_FINE)) -> int:
    """1 when the app could not be served or a route's verdict is one of ``fail_on``."""
    if result.error is not None:
        return 1
    return 1 if any(r.verdict in fail_on for r in result.routes) else 0


def output_path(text: str) -> Path:
    """argparse's ``type`` for a file to write: its folder must exist."""
    path = Path(text)
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"no such folder: {path.parent}")
    return path
