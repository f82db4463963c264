"""``--requests FILE``: requests the user writes, for routes the schema cannot fill.

The file is JSON (a list of objects, or ``{"requests": [...]}``) or JSON lines (one
object a line; blank lines and lines starting with ``#`` are skipped). Each object:

- ``path`` (required): the URL path and query to send, e.g. ``/books/42?full=true``;
- ``method``: default ``GET``; POST, PUT, PATCH and DELETE are sent only with ``--unsafe``;
- ``json``: the JSON body;
- ``headers``: an object of header names to values (``Host``, ``Connection``,
  ``Content-Length``, ``Content-Type`` and ``Transfer-Encoding`` are the client's own);
- ``route``: the declared path it exercises (``/books/{book_id}``), when the path alone
  does not say which one.

A request that exercises a declared route replaces the one built from the schema.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from autograder.measure.load import Request
from autograder.scan.openapi import SAFE, UNSAFE, Plan
from autograder.scan.target import UsageError

RESERVED = {"host", "connection", "content-length", "content-type", "transfer-encoding"}
KEYS = {"method", "path", "json", "headers", "route"}


def load(path: Path) -> list[Plan]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(f"cannot read the requests file {path}: {exc.strerror}") from None
    items = _items(text, path)
    return [_plan(item, f"{path}: request {i}") for i, item in enumerate(items, 1)]


def _items(text: str, path: Path) -> list[Any]:
    stripped = text.strip()
    if stripped.startswith("[") or (stripped.startswith("{") and "\n{" not in stripped):
        try:
            data = json.loads(stripped)
        except ValueError as exc:
            raise UsageError(f"{path}: not valid JSON: {exc}") from None
        if isinstance(data, dict):
            data = data.get("requests", [data]) if "path" not in data else [data]
        if not isinstance(data, list):
            raise UsageError(f"{path}: expected a list of requests")
        return data
    items = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            items.append(json.loads(line))
        except ValueError as exc:
            raise UsageError(f"{path}:{number}: not valid JSON: {exc}") from None
    return items


def _plan(item: Any, where: str) -> Plan:
    if not isinstance(item, dict):
        raise UsageError(f"{where}: expected an object with at least a path")
    unknown = set(item) - KEYS
    if unknown:
        raise UsageError(f"{where}: unknown keys {sorted(unknown)} (known: {sorted(KEYS)})")
    path = item.get("path")
    if not isinstance(path, str) or not path.startswith("/") or any(c in path for c in " \r\n"):
        raise UsageError(f"{where}: path must be a string starting with / and without spaces")
    method = item.get("method", "GET")
    if not isinstance(method, str) or method.upper() not in (*SAFE, *UNSAFE):
        raise UsageError(f"{where}: method must be one of {', '.join((*SAFE, *UNSAFE))}")
    headers = item.get("headers") or {}
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and "\n" not in k + v and "\r" not in k + v
        for k, v in headers.items()
    ):
        raise UsageError(f"{where}: headers must be an object of strings")
    kept = tuple((k, v) for k, v in headers.items() if k.lower() not in RESERVED)
    route = item.get("route")
    if route is not None and (not isinstance(route, str) or not route.startswith("/")):
        raise UsageError(f"{where}: route must be a declared path starting with /")
    request = Request(method.upper(), path, item.get("json"), kept)
    return Plan(method.upper(), route or path.split("?")[0], request, source="requests file")


def _template(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}/]+\})", path)
    body = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{body}$")


def merge(declared: list[Plan], written: list[Plan], *, unsafe: bool) -> list[Plan]:
    """The user's requests replace the schema's for the routes they exercise; the
    others are listed as routes of their own. The --unsafe rule holds for both."""
    out = list(declared)
    for plan in written:
        target = None
        for i, d in enumerate(out):
            if d.method == plan.method and (
                d.path == plan.path
                or (d.source == "openapi" and _template(d.path).match(plan.path))
            ):
                target = i
                break
        if target is not None:
            plan.path = out[target].path
            if out[target].extra.get("stream"):  # the schema declares an event stream
                plan.extra["stream"] = True
            if out[target].source == "openapi":
                out[target] = plan
                continue
        if target is None:
            out.append(plan)
        else:  # a second request for the same route: measured as an entry of its own
            out.insert(target + 1, plan)
    for plan in out:
        if plan.source == "requests file" and plan.method in UNSAFE and not unsafe:
            plan.request = None
            plan.reason = f"{plan.method} changes data: not sent without --unsafe"
    return out
