"""Shared by the notebook builders in this folder: cells from text, a clean notebook out."""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

COURSE = Path(__file__).resolve().parent.parent


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(textwrap.dedent(text).strip("\n"))


def code(text: str) -> nbformat.NotebookNode:
    return new_code_cell(textwrap.dedent(text).strip("\n"))


def write(name: str, cells: list[nbformat.NotebookNode]) -> Path:
    """Write ``course/<name>`` with no outputs and a python3 kernelspec."""
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    nb.metadata["language_info"] = {"name": "python"}
    path = COURSE / name
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return path
