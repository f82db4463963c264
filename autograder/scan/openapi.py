"""What the scan can call on its own: requests built from the app's OpenAPI schema.

Every value comes from the schema: an example, a default, the first of an enum, or
a plain value of the declared type within its bounds. A parameter the schema does not
let us fill honestly (a pattern and no example, an object in a query) makes the route
``skipped`` with that reason: the scan never guesses a request that would only measure
a 422.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from autograder.measure.load import Request

SAFE = ("GET",)
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
FORMATS = {
    "uuid": "00000000-0000-4000-8000-000000000001",
    "date": "2024-01-01",
    "date-time": "2024-01-01T00:00:00Z",
    "time": "12:00:00",
    "email": "user@example.com",
    "uri": "http://example.com/",
    "duration": "P1D",
}
MAX_DEPTH = 8


@dataclass
class Plan:
    """One route to measure (``request`` set) or to list as skipped (``reason`` set)."""

    method: str
    path: str  # as the app declares it: /books/{book_id}
    request: Request | None = None
    reason: str | None = None
    source: str = "openapi"
    extra: dict[str, Any] = field(default_factory=dict)


class Unfillable(Exception):
    """The schema does not say enough to build this value."""


def plans(schema: dict[str, Any], *, unsafe: bool) -> list[Plan]:
    """One plan per (path, method) the schema declares, in its order."""
    out = []
    for path, item in (schema.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        shared = item.get("parameters") or []
        for method, op in item.items():
            if method in ("parameters", "summary", "description", "servers"):
                continue
            if not isinstance(op, dict):
                continue
            out.append(_plan(schema, path, method.upper(), op, shared, unsafe=unsafe))
    return out


def _plan(
    schema: dict[str, Any],
    path: str,
    method: str,
    op: dict[str, Any],
    shared: list[Any],
    *,
    unsafe: bool,
) -> Plan:
    plan = Plan(method, path)
    if method in UNSAFE and not unsafe:
        plan.reason = f"{method} changes data: not sent without --unsafe"
        return plan
    if method not in SAFE and method not in UNSAFE:
        plan.reason = (
            "HEAD is not scanned (the load client reads bodies; a GET of the path is)"
            if method == "HEAD"
            else f"{method} is not scanned (GET; POST, PUT, PATCH, DELETE with --unsafe)"
        )
        return plan
    try:
        plan.request = build_request(
            schema, path, method, [*shared, *(op.get("parameters") or [])], op.get("requestBody")
        )
    except Unfillable as exc:
        plan.reason = str(exc)
    if declares_event_stream(op):
        plan.extra["stream"] = True
    return plan


def declares_event_stream(op: dict[str, Any]) -> bool:
    """A 2xx answer of ``text/event-stream`` (FastAPI declares it for a route with
    ``response_class=EventSourceResponse``; a bare ``StreamingResponse`` is declared as
    JSON, and is found by the head of its first answer instead)."""
    for status, answer in (op.get("responses") or {}).items():
        if str(status).startswith("2") and isinstance(answer, dict):
            content = answer.get("content") or {}
            if any(str(m).split(";")[0].strip().lower() == "text/event-stream" for m in content):
                return True
    return False


def build_request(
    schema: dict[str, Any],
    path: str,
    method: str,
    parameters: list[Any],
    body: dict[str, Any] | None,
) -> Request:
    """The request for one operation; raise :class:`Unfillable` with the reason."""
    url = path
    query: list[tuple[str, str]] = []
    headers: list[tuple[str, str]] = []
    cookies: list[str] = []
    for raw in parameters:
        param = resolve(schema, raw)
        where, name = param.get("in"), param.get("name", "?")
        if where != "path" and not param.get("required"):
            continue  # the app's own default applies
        try:
            value = _parameter_value(schema, param)
        except Unfillable as exc:
            raise Unfillable(f"{where} parameter {name!r}: {exc}") from None
        if where == "path":
            url = url.replace("{" + name + "}", urllib.parse.quote(_text(value), safe=""))
        elif where == "query":
            values = value if isinstance(value, list) else [value]
            query += [(name, _text(v)) for v in values]
        elif where == "header":
            headers.append((name, _text(value)))
        elif where == "cookie":
            cookies.append(f"{name}={_text(value)}")
    if "{" in url:
        raise Unfillable(f"path {path} has a parameter the schema does not declare")
    if cookies:
        headers.append(("Cookie", "; ".join(cookies)))
    json_body = None
    if body:
        body = resolve(schema, body)
        content = body.get("content") or {}
        if "application/json" in content:
            media = content["application/json"]
            try:
                json_body = example(schema, media.get("schema") or {}, media)
            except Unfillable as exc:
                raise Unfillable(f"JSON body: {exc}") from None
        elif body.get("required"):
            kinds = ", ".join(content) or "no content type"
            raise Unfillable(f"the body is {kinds}, not JSON: write it in --requests")
    if query:
        url += "?" + urllib.parse.urlencode(query)
    return Request(method, url, json_body, tuple(headers))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _parameter_value(schema: dict[str, Any], param: dict[str, Any]) -> Any:
    sub = param.get("schema") or {}
    if "content" in param:
        media: dict[str, Any] = next(iter(param["content"].values()), {})
        return example(schema, media.get("schema") or {}, media)
    return example(schema, sub, param)


def resolve(schema: dict[str, Any], node: Any) -> dict[str, Any]:
    """Follow local ``$ref``s (``#/components/...``)."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise Unfillable(f"a reference outside the schema ({ref})")
        target: Any = schema
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                raise Unfillable(f"a reference to nothing ({ref})")
            target = target[part]
        node = target
        seen += 1
        if seen > MAX_DEPTH:
            raise Unfillable("references that loop")
    return node if isinstance(node, dict) else {}


def _given(node: dict[str, Any]) -> tuple[bool, Any]:
    """An example or default the schema (or parameter, or media type) gives."""
    if "example" in node:
        return True, node["example"]
    examples = node.get("examples")
    if isinstance(examples, list) and examples:
        return True, examples[0]
    if isinstance(examples, dict) and examples:
        first = next(iter(examples.values()))
        if isinstance(first, dict) and "value" in first:
            return True, first["value"]
    if "default" in node:
        return True, node["default"]
    if node.get("enum"):
        return True, node["enum"][0]
    if "const" in node:
        return True, node["const"]
    return False, None


def example(
    schema: dict[str, Any], node: Any, holder: dict[str, Any] | None = None, depth: int = 0
) -> Any:
    """A value the schema ``node`` accepts (``holder``: a parameter or media type whose
    example wins)."""
    if depth > MAX_DEPTH:
        raise Unfillable("a schema nested too deep")
    if holder:
        found, value = _given(holder)
        if found:
            return value
    node = resolve(schema, node)
    found, value = _given(node)
    if found:
        return value
    for key in ("anyOf", "oneOf"):
        if key in node:
            options = [resolve(schema, o) for o in node[key]]
            reasons = []
            for option in sorted(options, key=lambda o: o.get("type") == "null"):
                try:
                    return example(schema, option, None, depth + 1)
                except Unfillable as exc:
                    reasons.append(str(exc))
            raise Unfillable("; ".join(reasons) or "an empty choice")
    if "allOf" in node:
        merged: dict[str, Any] = {}
        for part in node["allOf"]:
            for k, v in resolve(schema, part).items():
                if k == "properties":
                    merged.setdefault("properties", {}).update(v)
                elif k == "required":
                    merged.setdefault("required", []).extend(v)
                else:
                    merged[k] = v
        return example(schema, merged, None, depth + 1)
    kind = node.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if kinds else "null"
    if kind == "integer":
        return int(_number(node, 1))
    if kind == "number":
        return float(_number(node, 1.0))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "string":
        return _string(node)
    if kind == "array":
        items = node.get("items") or {}
        count = int(node.get("minItems", 1 if items else 0))
        return [example(schema, items, None, depth + 1) for _ in range(count)]
    if kind == "object" or "properties" in node:
        props = node.get("properties") or {}
        out = {}
        for name in node.get("required") or []:
            if name not in props:
                raise Unfillable(f"required field {name!r} has no schema")
            try:
                out[name] = example(schema, props[name], None, depth + 1)
            except Unfillable as exc:
                raise Unfillable(f"field {name!r}: {exc}") from None
        return out
    if not node:
        raise Unfillable("no schema says what it accepts")
    raise Unfillable(f"a schema of type {kind!r} it cannot fill")


def _number(node: dict[str, Any], default: float) -> float:
    low = node.get("minimum")
    if low is None and node.get("exclusiveMinimum") is not None:
        low = node["exclusiveMinimum"] + (1 if node.get("type") == "integer" else 0.5)
    high = node.get("maximum")
    if high is None and node.get("exclusiveMaximum") is not None:
        high = node["exclusiveMaximum"] - (1 if node.get("type") == "integer" else 0.5)
    value = default if low is None else max(low, default)
    if high is not None and value > high:
        value = high
    if low is not None and value < low:
        raise Unfillable("bounds that no number fits")
    return value


def _string(node: dict[str, Any]) -> str:
    fmt = node.get("format")
    if fmt in FORMATS:
        return FORMATS[fmt]
    if node.get("pattern"):
        raise Unfillable(f"a pattern ({node['pattern']}) and no example")
    if fmt in ("binary", "byte"):
        raise Unfillable(f"{fmt} data and no example")
    low = int(node.get("minLength", 1))
    high = node.get("maxLength")
    if high is not None and int(high) < low:
        raise Unfillable("length bounds that no string fits")
    return "1" * max(low, 1)
