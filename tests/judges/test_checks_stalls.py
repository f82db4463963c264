"""The checks the streaming and timeouts exercises added, on synthetic figures."""

from __future__ import annotations

import math

from autograder.judges import checks
from autograder.measure.load import Request, Response
from autograder.servers.slow import (
    ROWS_PER_REPORT,
    export_body,
    quote_body,
    quote_hangs,
    row_cursor,
    row_text,
)


def resp(end: float | None, status: int = 200, body: bytes = b"", path: str = "/x") -> Response:
    return Response(Request("GET", path), start=0.0, end=end, status=status, body=body)


def test_each_began_within_names_late_and_missing_first_parts():
    rs = [resp(0.6)] * 3
    ok = checks.each_began_within("first-row", rs, [0.1, 0.12, 0.2], 0.3, what="e", part="row")
    assert ok.passed and "0.20 s" in ok.message
    late = checks.each_began_within("first-row", rs, [0.1, 0.5, None], 0.3, what="e", part="row")
    assert not late.passed
    assert "2 of 3" in late.message and "1 never" in late.message and "0.50 s" in late.message


def test_texts_match_compares_status_and_text():
    rs = [resp(0.5, body=b"a\nb\n", path="/export/r")]
    assert checks.texts_match("rows", rs, lambda r: (200, "a\nb\n"), what="exports").passed
    bad = checks.texts_match("rows", rs, lambda r: (200, "a\nc\n"), what="exports")
    assert not bad.passed and "/export/r" in bad.message
    none = checks.texts_match("rows", [resp(None)], lambda r: (200, ""), what="exports")
    assert not none.passed and none.message.startswith("not measured")


def test_percentile_under_counts_unanswered_as_slowest():
    fast = [0.05] * 99 + [0.2]
    assert checks.percentile_under("h", fast, 0.5, q=99, what="quotes").passed
    one_missing = [0.05] * 99 + [None]
    assert checks.percentile_under("h", one_missing, 0.5, q=99, what="quotes").passed
    two_missing = [0.05] * 98 + [None, None]
    c = checks.percentile_under("h", two_missing, 0.5, q=99, what="quotes")
    assert not c.passed and "2 of 100" in c.message
    slow = checks.percentile_under("h", [0.6] * 10, 0.5, q=99, what="quotes")
    assert not slow.passed and "600 ms" in slow.message


def test_closed_within_fails_on_late_or_open_connections():
    assert checks.closed_within("c", [(0.0, 0.5), (1.0, 1.6)], 1.5, what="conns").passed
    c = checks.closed_within("c", [(0.0, 0.5), (1.0, 3.0), (2.0, None)], 1.5, what="conns")
    assert not c.passed and "2 of 3" in c.message and "1 still open" in c.message
    assert not checks.closed_within("c", [], 1.5, what="conns").passed


def test_rows_and_quotes_depend_on_the_secret():
    body = export_body("s1", "r")
    assert body.count("\n") == ROWS_PER_REPORT and body != export_body("s2", "r")
    assert body.splitlines()[3] == row_text("s1", "r", 3)
    assert row_cursor("s1", "r", 1) != row_cursor("s2", "r", 1)
    hangs = [quote_hangs("s1", f"Q{i}") for i in range(200)]
    assert 60 < sum(hangs) < 140  # about half
    price = quote_body("s1", "ABC")["price"]
    assert (
        isinstance(price, float)
        and not math.isnan(price)
        and price != quote_body("s2", "ABC")["price"]
    )
