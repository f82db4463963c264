"""The lessons' Markdown tables: one writer, a header, a separator, a line per row."""

from __future__ import annotations

import sys

from tests.conftest import ROOT


def test_markdown_table_has_a_line_per_row_and_as_many_cells_as_the_header():
    sys.path.insert(0, str(ROOT / "course"))
    try:
        from _scenarios import markdown_table
    finally:
        sys.path.remove(str(ROOT / "course"))
    table = markdown_table(("app", "peak"), [("sync", 15), ("async", 5)])
    assert table.splitlines() == [
        "| app | peak |",
        "| --- | --- |",
        "| sync | 15 |",
        "| async | 5 |",
    ]
