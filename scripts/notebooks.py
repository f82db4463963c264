"""Build the course notebooks from their plain-text sources, or check that they agree.

Every course notebook has one source: ``course/_src/NN_name.py`` in jupytext's percent
format (``# %%`` starts a code cell, ``# %% [markdown]`` a text cell whose lines are
comments). A course author edits that file (in an editor, or in JupyterLab with jupytext);
ruff lints it as real code and diffs stay readable. ``course/NN_name.ipynb`` is what the
learner opens: generated from the source, committed without outputs, each cell with an
id derived from the notebook's number and the cell's position, so a rebuild of the same
source gives the same bytes.

    python scripts/notebooks.py build            # write every course/NN_*.ipynb
    python scripts/notebooks.py check            # exit 1, naming each notebook that disagrees
    python scripts/notebooks.py import course/03_background_tasks.ipynb
                                                 # take a notebook edited in JupyterLab back
                                                 # into its source (outputs dropped)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "course"
SOURCES = COURSE / "_src"
FORMAT = "py:percent"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# Cell metadata worth keeping in the learner's notebook; jupytext's own bookkeeping is not.
KEPT_CELL_METADATA = ("tags",)


def sources() -> list[Path]:
    return sorted(SOURCES.glob("[0-9][0-9]_*.py"))


def notebook_for(source: Path) -> Path:
    return COURSE / f"{source.stem}.ipynb"


def render(source: Path) -> str:
    """The notebook ``source`` describes, as the exact text committed for it."""
    nb = jupytext.reads(source.read_text(encoding="utf-8"), fmt=FORMAT)
    number = source.stem.split("_", 1)[0]
    cells = []
    for index, cell in enumerate(nb.cells):
        meta = {k: v for k, v in cell.metadata.items() if k in KEPT_CELL_METADATA}
        source_text = cell.source.strip("\n")
        cell_id = f"{number}-{index:02d}"
        if cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(source_text, metadata=meta, id=cell_id)
        else:
            new = nbformat.v4.new_code_cell(source_text, metadata=meta, id=cell_id)
        cells.append(new)
    out = nbformat.v4.new_notebook(cells=cells)
    out.metadata = nbformat.NotebookNode(
        {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    )
    nbformat.validate(out)
    return nbformat.writes(out) + "\n"


def build(names: list[str]) -> int:
    for source in selected(names):
        target = notebook_for(source)
        text = render(source)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(ROOT)}")
    return 0


def disagreements() -> list[str]:
    """One line per notebook that is missing, stale, or has no source."""
    problems = []
    built = set()
    for source in sources():
        target = notebook_for(source)
        built.add(target)
        if not target.exists():
            problems.append(f"{target.relative_to(ROOT)}: missing (source {source.name})")
        elif target.read_text(encoding="utf-8") != render(source):
            problems.append(
                f"{target.relative_to(ROOT)}: differs from _src/{source.name} "
                "(run: python scripts/notebooks.py build)"
            )
    for notebook in sorted(COURSE.glob("[0-9][0-9]_*.ipynb")):
        if notebook not in built:
            problems.append(f"{notebook.relative_to(ROOT)}: no source in course/_src/")
    return problems


def check() -> int:
    problems = disagreements()
    for line in problems:
        print(line, file=sys.stderr)
    if not problems:
        print(f"{len(sources())} notebooks agree with their sources")
    return 1 if problems else 0


def import_notebook(path: Path) -> int:
    """Write ``path``'s cells (not its outputs or metadata) back to its percent source."""
    nb = jupytext.read(path)
    # No YAML header in the source: the build adds the kernelspec.
    nb.metadata = {"jupytext": {"notebook_metadata_filter": "-all"}}
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in KEPT_CELL_METADATA}
    target = SOURCES / f"{path.stem}.py"
    text = jupytext.writes(nb, fmt=FORMAT)
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)}")
    return 0


def selected(names: list[str]) -> list[Path]:
    if not names:
        return sources()
    chosen = []
    for name in names:
        matches = [s for s in sources() if s.stem.startswith(Path(name).stem)]
        if not matches:
            raise SystemExit(f"no source in course/_src/ matches {name!r}")
        chosen.extend(matches)
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python scripts/notebooks.py",
        description=__doc__.split("\n\n")[0],
        epilog="Sources: course/_src/NN_name.py (jupytext percent format).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write course/NN_name.ipynb from each source")
    b.add_argument("names", nargs="*", help="only these notebooks (e.g. 03 or 03_background_tasks)")
    sub.add_parser("check", help="exit 1 if a committed notebook and its source disagree")
    i = sub.add_parser("import", help="write a notebook's cells back to its source")
    i.add_argument("notebook", type=Path, help="e.g. course/03_background_tasks.ipynb")
    args = parser.parse_args(argv)
    if args.command == "build":
        return build(args.names)
    if args.command == "check":
        return check()
    if not args.notebook.is_file():
        parser.error(f"no such notebook: {args.notebook}")
    return import_notebook(args.notebook)


if __name__ == "__main__":
    sys.exit(main())
