"""The scan: serve the app as the grader does, read its schema, measure route by route.

Routes are measured one at a time on the same served app. When a route leaves work
behind (requests the client gave up on, a hang, a loop still blocked) or the app dies,
the app is started afresh for the next route, so one route's backlog never shows up in
another route's figures.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from autograder.harness.app import PROBE_PATH, WEBSOCKETS_PATH
from autograder.measure.burst import timeline_bars
from autograder.measure.load import Request
from autograder.measure.session import Session
from autograder.run import runner
from autograder.run.handles import SubmissionFailed
from autograder.run.interpreter import Interpreter
from autograder.scan import openapi, userfile, websocket
from autograder.scan.classify import classify
from autograder.scan.measure import Measured, measure
from autograder.scan.openapi import Plan
from autograder.scan.target import Target
from autograder.scan.where import blocking_line

log = logging.getLogger(__name__)


@dataclass
class RouteResult:
    method: str
    path: str
    verdict: str
    diagnosis: str | None = None
    reason: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    measured: Measured | None = None
    sent: str | None = None  # the request line sent (path and query)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "verdict": self.verdict,
            "diagnosis": self.diagnosis,
            "reason": self.reason,
            "request": self.sent,
            "figures": self.figures,
        }


@dataclass
class ScanResult:
    target: str
    routes: list[RouteResult] = field(default_factory=list)
    error: str | None = None  # the app could not be served at all
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    concurrency: int = 0

    @property
    def all_fine(self) -> bool:
        return self.error is None and all(r.verdict in ("fine", "skipped") for r in self.routes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "ok": self.all_fine,
            "error": self.error,
            "concurrency": self.concurrency,
            "scan_s": round(self.seconds, 2),
            "notes": self.notes,
            "routes": [r.to_dict() for r in self.routes],
        }


@dataclass(frozen=True)
class Options:
    concurrency: int = 20
    unsafe: bool = False
    hang_after: float = 5.0
    openapi_path: str = "/openapi.json"
    env: dict[str, str] = field(default_factory=dict)
    written: tuple[Plan, ...] = ()
    python: Interpreter | None = None  # the app's own environment (None: the scanner's)
    shared: tuple[str, ...] = ()  # folders outside the app's that it reads
    network: bool = False  # the machine's network stays reachable (its database, an API)


async def scan(target: Target, options: Options) -> ScanResult:
    t0 = time.monotonic()
    result = ScanResult(target.spec, concurrency=options.concurrency)
    queue: list[Plan] | None = None  # known once the schema is read
    results: dict[int, RouteResult] = {}
    plans: list[Plan] = []
    restarted_for: str | None = None
    while queue is None or queue:
        try:
            async with runner.running(
                target.file,
                env=options.env,
                harness_args=target.harness_args(),
                reachable=(str(target.root), *target.cwd_folder(), *options.shared),
                python=options.python,
                noun="the app",
                network=options.network,
                cwd=target.cwd,
            ) as run:
                session = Session(run)
                if queue is None:
                    plans = await _plans(session, options, result)
                    queue = [p for p in plans if p.request is not None]
                while queue:
                    plan = queue.pop(0)
                    route = await _route(session, target, plan, options)
                    results[id(plan)] = route
                    assert route.measured is not None
                    if route.measured.left_work_behind or not await _quiet(session):
                        restarted_for = f"{plan.method} {plan.path}"
                        log.info("starting the app afresh after %s", restarted_for)
                        break
        except (SubmissionFailed, RuntimeError) as exc:
            message = explain_start_failure(str(exc), options.env, options.python)
            if queue is None:
                result.error = message
                break
            for plan in queue:
                plan.request = None
                plan.reason = (
                    f"not measured: the app did not start again after {restarted_for}: {message}"
                )
            queue = []
    for plan in plans:
        result.routes.append(
            results.get(id(plan))
            or RouteResult(plan.method, plan.path, "skipped", reason=plan.reason)
        )
    result.seconds = time.monotonic() - t0
    return result


async def _plans(session: Session, options: Options, result: ScanResult) -> list[Plan]:
    response = await session.send(Request("GET", options.openapi_path), wait_at_most=10)
    schema = response.json() if response.done and response.status == 200 else None
    declared: list[Plan] = []
    if isinstance(schema, dict) and isinstance(schema.get("paths"), dict):
        declared = openapi.plans(schema, unsafe=options.unsafe)
    else:
        got = response.error or f"status {response.status}"
        result.notes.append(
            f"no OpenAPI schema at {options.openapi_path} ({got}): only the routes of "
            "--requests are measured (--openapi PATH names another place)"
        )
    merged = userfile.merge(declared, list(options.written), unsafe=options.unsafe)
    return merged + await _websocket_plans(session, result)


async def _websocket_plans(session: Session, result: ScanResult) -> list[Plan]:
    """The app's WebSocket routes, as the harness lists them from the app's own routes
    (the OpenAPI schema lists none)."""
    response = await session.send(Request("GET", WEBSOCKETS_PATH), wait_at_most=10)
    if not (response.done and response.status == 200):
        got = response.error or f"status {response.status}"
        result.notes.append(f"the app's WebSocket routes could not be listed ({got})")
        return []
    return websocket.plans(response.json())


async def _route(session: Session, target: Target, plan: Plan, options: Options) -> RouteResult:
    assert plan.request is not None
    log.info("measuring %s %s", plan.method, plan.path)
    m = await measure(
        session,
        plan.request,
        n=options.concurrency,
        hang_after=options.hang_after,
        declared_stream=bool(plan.extra.get("stream")),
        websocket=bool(plan.extra.get("websocket")),
    )
    verdict, why = classify(m.summary)
    if m.stream is not None:
        why = stream_note(m) + why
    if m.websocket is not None:
        why = websocket_note(m) + why
    status = m.summary.alone_status
    if status is not None and 400 <= status < 500:
        why += (
            f"; note: it answered {status} to {plan.request.path}, so this measured the "
            "rejection, not the work (write a request that succeeds in --requests)"
        )
    diagnosis = None
    if verdict == "blocks-loop":
        diagnosis, note = blocking_line(session.run.report(), target, m.began, m.ended)
        if note:
            why += f"; {note}"
    return RouteResult(
        plan.method,
        plan.path,
        verdict,
        diagnosis=diagnosis,
        reason=why,
        figures=_figures(m),
        measured=m,
        sent=plan.request.path,
    )


async def _quiet(session: Session) -> bool:
    """The app is alive and its loop answers: the next route starts on a calm app."""
    if not session.run.app_alive():
        return False
    probe = await session.send(Request("GET", PROBE_PATH), wait_at_most=1.0)
    return probe.done


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def stream_note(m: Measured) -> str:
    """What a stream's verdict is about: its time to the first event, never its end."""
    assert m.stream is not None
    held = m.stream.get("held")
    kept = f", held open together {held * 1000:.0f} ms more, then closed" if held else ""
    return (
        f"an event stream (text/event-stream, {m.stream['seen']}), measured to its first "
        f"event{kept}: "
    )


def websocket_note(m: Measured) -> str:
    """What a WebSocket route's verdict is about: connections to their first message."""
    assert m.websocket is not None
    held = m.websocket.get("held")
    kept = f", held open together {held * 1000:.0f} ms more, then closed" if held else ""
    first = m.websocket.get("speaks_first")
    how = (
        "the app spoke first"
        if first
        else "after one text message sent"
        if first is not None
        else "no connection opened"
    )
    return f"a WebSocket route, measured from connecting to its first message ({how}){kept}: "


def _figures(m: Measured) -> dict[str, Any]:
    s = m.summary
    out: dict[str, Any] = {
        "alone_ms": _ms(s.alone),
        "alone_status": s.alone_status,
        "requests": s.sent,
        "answered": s.answered,
        "statuses": m.statuses,
        "server_errors": s.server_errors,
        "dropped": s.dropped,
        "waited_ms": _ms(m.waited) if s.sent else None,
        "max_latency_ms": _ms(s.max_latency),
        "slowdown": None if s.slowdown is None else round(s.slowdown, 2),
        "parallelism": None if s.parallelism is None else round(s.parallelism, 1),
        "loop_lag_ms": _ms(s.loop_lag),
        "late_probes": s.late_probes,
        "cpu_busy": None if s.cpu_busy is None else round(s.cpu_busy, 2),
        "threads_in_use": s.tokens_peak,
        "thread_tokens": s.tokens_total,
    }
    if m.stream is not None:
        out["stream"] = {
            "seen_in": m.stream["seen"],
            "first_event_alone_ms": _ms(s.alone),
            "first_event_max_ms": _ms(s.max_latency),
            "streams_opened": m.stream.get("streams"),
            "events": m.stream.get("events"),
            "ended_by_the_app": m.stream.get("ended"),
            "held_open_ms": _ms(m.stream.get("held")),
        }
    if m.websocket is not None:
        w = m.websocket
        connect = [c for c in w.get("connect_ms", []) if c is not None]
        out["websocket"] = {
            "connect_alone_ms": _ms(min(connect)) if connect else None,
            "first_message_alone_ms": _ms(s.alone),
            "first_message_max_ms": _ms(s.max_latency),
            "speaks_first": w.get("speaks_first"),
            "connections_opened": w.get("connections"),
            "messages": w.get("messages"),
            "ended_by_the_app": w.get("ended"),
            "held_open_ms": _ms(w.get("held")),
        }
    out["timeline"] = timeline_bars(m.burst)
    return out


_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEY_ERROR = re.compile(r"KeyError: '([A-Za-z_][A-Za-z0-9_]*)'")


def explain_start_failure(
    message: str, env: dict[str, str], python: Interpreter | None = None
) -> str:
    """Say what to do: the setting an import failed for, when the traceback says it read
    one; the environment a missing package points to; the server the app could not reach."""
    missing_module = _NO_MODULE.search(message)
    if missing_module:
        used = python.executable if python else "the scanner's own Python"
        return (
            f"the app imports {missing_module.group(1)!r}, which {used} does not have: serve it "
            "with its own environment (--python PATH/TO/.venv/bin/python; a .venv beside the "
            f"app or in the current folder is used by default)\n{message}"
        )
    if _READ_ONLY.search(message):
        return (
            "the app writes into a folder the scan shows read-only (its own files are, so "
            "a scan changes nothing of them): point the setting that names that path at "
            f"the run's own writable folder, e.g. --env LOG_DIR=/tmp/logs\n{message}"
        )
    server = unreachable_server(message, env)
    if server:
        return (
            f"the app could not reach {server}: the scan serves it with no network but its "
            "own test servers, unless asked: pass --network to let it reach the machine's "
            "(its database on localhost), or give it an embedded one (e.g. --env "
            f"DATABASE_URL=sqlite:///scan.db)\n{message}"
        )
    match = _KEY_ERROR.search(message)
    if match and "environ" in message and match.group(1) not in env:
        name = match.group(1)
        return (
            f"the app needs the setting {name}, which is not set: pass --env {name}=... "
            f"or --env-file FILE\n{message}"
        )
    if "validation error for" in message and "Field required" in message:
        # pydantic-settings: each missing field's line precedes its "Field required"
        lines = message.splitlines()
        names = [
            lines[i - 1].strip().upper()
            for i, line in enumerate(lines)
            if i and "Field required" in line and _FIELD.match(lines[i - 1].strip())
        ]
        missing = [n for n in names if n not in env]
        if missing:
            flags = " ".join(f"--env {n}=..." for n in missing)
            return f"the app needs the setting(s) {', '.join(missing)}: pass {flags}\n{message}"
    for name in re.findall(r"\b([A-Z][A-Z0-9_]{2,})\b", message):
        if name not in env and ("not set" in message or "missing" in message.lower()):
            return (
                f"the app may need the setting {name}: pass --env {name}=... or --env-file "
                f"FILE\n{message}"
            )
    return message


# The ports and URL schemes of the servers apps most often need at start-up.
SERVERS = {
    5432: "PostgreSQL",
    3306: "MySQL",
    6379: "Redis",
    27017: "MongoDB",
    5672: "RabbitMQ",
    9092: "Kafka",
    11211: "memcached",
    9200: "Elasticsearch",
}
SCHEMES = {
    "postgres": "PostgreSQL",
    "postgresql": "PostgreSQL",
    "mysql": "MySQL",
    "mariadb": "MySQL",
    "redis": "Redis",
    "rediss": "Redis",
    "mongodb": "MongoDB",
    "amqp": "RabbitMQ",
    "kafka": "Kafka",
}
_READ_ONLY = re.compile(r"(PermissionError: \[Errno 13\]|Read-only file system|readonly database)")
_NO_MODULE = re.compile(r"ModuleNotFoundError: No module named '([\w.]+)'")
_REFUSED = re.compile(
    r"(ConnectionRefusedError|OperationalError|ConnectionError|Connect call failed|"
    r"Connection refused|could not connect|Network is unreachable|Name or service not known|"
    r"Temporary failure in name resolution|nodename nor servname)",
    re.IGNORECASE,
)


def unreachable_server(message: str, env: dict[str, str]) -> str | None:
    """The server a start-up failure says the app could not connect to, by the port in
    the message or the scheme of a URL among its settings; None if it says no such thing."""
    if not _REFUSED.search(message):
        return None
    for port in re.findall(r"(?:port |:|, )(\d{2,5})\b", message):
        if int(port) in SERVERS:
            return f"{SERVERS[int(port)]} (port {port})"
    for scheme in re.findall(r"\b([a-z][a-z0-9+]*)://", message):
        base = scheme.split("+")[0]
        if base in SCHEMES:
            return SCHEMES[base]
    for key, value in env.items():
        base = value.split("://", 1)[0].split("+")[0].lower() if "://" in value else ""
        if base in SCHEMES:
            return f"{SCHEMES[base]} ({key})"
    return "a server over the network"


async def _main(target: Target, options: Options) -> ScanResult:
    return await scan(target, options)


def scan_blocking(target: Target, options: Options) -> ScanResult:
    return asyncio.run(_main(target, options))
