"""Reading a submission: the service's source, taken from the notebook file, never from a kernel.

The app cell is found by its nbgrader ``grade_id`` (:data:`APP_ID`). Whatever the other
cells say or did when the student ran them, only this cell's text is graded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from autograder.classroom.notebook import APP_ID

WRITEFILE = "%%writefile"


class NoService(ValueError):
    """The notebook holds no service to grade; the message tells the student why."""


class Unreadable(ValueError):
    """The file is not a notebook nbgrader can read (not JSON, not nbformat 4)."""


def read_notebook(path: Path) -> Any:
    """The notebook at ``path``; :class:`Unreadable` with the reason when it is not one."""
    import nbformat

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Unreadable(f"{path.name} could not be read: {exc}") from None
    try:
        json.loads(text)
    except ValueError as exc:
        raise Unreadable(f"{path.name} is not valid JSON ({exc}): was it saved whole?") from None
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises a zoo of types for a malformed notebook
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise Unreadable(f"{path.name} is not a valid notebook: {first}") from None
    return nb


def _grade_id(cell: Any) -> object:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta.get("grade_id") if isinstance(meta, dict) else None


def app_cell(nb: Any) -> Any:
    """The one app cell of ``nb``; :class:`NoService` with the reason when there is none."""
    found = [c for c in nb.cells if _grade_id(c) == APP_ID]
    if not found:
        raise NoService(
            "no service to grade: the notebook has no app cell (the cell that starts with "
            "`%%writefile app.py`, given in the notebook you fetched). It was deleted, or "
            "its nbgrader metadata was changed; only that cell is graded."
        )
    if len(found) > 1:
        raise NoService(
            f"no service to grade: {len(found)} cells claim to be the app cell (a copy of it "
            "kept its nbgrader metadata); keep exactly one cell that writes app.py."
        )
    cell = found[0]
    if cell.cell_type != "code":
        raise NoService("no service to grade: the app cell was turned into a text cell.")
    return cell


def app_source(cell: Any) -> str:
    """The service's code: the app cell's text, without its ``%%writefile`` line."""
    lines = str(cell.source).splitlines()
    if lines and lines[0].lstrip().startswith(WRITEFILE):
        lines = lines[1:]
    code = "\n".join(lines).strip("\n")
    if not code.strip():
        raise NoService("no service to grade: the app cell is empty.")
    return code + "\n"
