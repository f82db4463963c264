"""The engine's folders are its layers: a lower layer never imports a higher one, no module
imports itself back through others, and no module reaches for another's private names.

Read from the source (every ``import``, at the top or inside a function), so a lazy
import that closes a circle counts too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "autograder"
# Lowest first. A module may import its own layer and those below; two layers of one rank
# (sandbox, servers) know nothing of each other. Everything not named is a product
# (grade, cli, lab, drills, classroom, scan), free to use every layer and each other.
LAYERS = {"harness": 0, "sandbox": 1, "servers": 1, "run": 2, "measure": 3, "judges": 4}
PRODUCT = 5


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else "product"


def rank(module: str) -> int:
    return LAYERS.get(layer(module), PRODUCT)


def sources(*folders: str) -> Iterator[Path]:
    for folder in folders:
        yield from (p for p in (ROOT / folder).rglob("*.py") if "snippets" not in p.parts)


def imports(path: Path, known: set[str]) -> Iterator[tuple[str, list[str], int]]:
    """(imported autograder module, names taken from it, line) for each import in ``path``."""
    here = module_name(path) if path.is_relative_to(PACKAGE) else ""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("autograder"):
                    yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:  # relative: resolved against this package
                pkg = here.split(".")[: -node.level or None]
                base = ".".join([*pkg, node.module])
            if not base.startswith("autograder"):
                continue
            plain = []
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in known:  # `from autograder.run import runner`: a module
                    yield sub, [], node.lineno
                else:
                    plain.append(alias.name)
            if plain:
                yield base, plain, node.lineno


def graph() -> dict[str, set[str]]:
    known = {module_name(p) for p in PACKAGE.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        me = module_name(path)
        edges[me] = {m for m, _, _ in imports(path, known) if m != me and m != "autograder"}
    return edges


def test_no_lower_layer_imports_a_higher_one():
    wrong = []
    for module, targets in graph().items():
        for target in targets:
            mine, theirs = rank(module), rank(target)
            if theirs > mine or (theirs == mine and layer(target) != layer(module) < "product"):
                wrong.append(f"{module} ({layer(module)}) imports {target} ({layer(target)})")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_circle():
    edges = graph()
    circles = []
    for start in edges:  # a path back to ``start`` through the graph is a circle
        todo, seen = [(start, [start])], set()
        while todo:
            node, trail = todo.pop()
            for nxt in edges.get(node, ()):
                if nxt == start:
                    circles.append(" -> ".join([*trail, start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    todo.append((nxt, [*trail, nxt]))
    assert not circles, "\n".join(sorted(set(circles)))


def test_no_private_name_is_used_across_modules():
    known = {module_name(p) for p in PACKAGE.rglob("*.py")}
    wrong = []
    for path in sources("autograder", "tests", "benchmarks", "course", "scripts"):
        tree = ast.parse(path.read_text(), str(path))
        aliases: dict[str, str] = {}
        for module, names, line in imports(path, known):
            for name in names:
                if name.startswith("_") and not name.startswith("__"):
                    wrong.append(f"{path.relative_to(ROOT)}:{line} takes {module}.{name}")
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module in known | {
                "autograder"
            }:
                for alias in node.names:
                    if f"{node.module}.{alias.name}" in known:
                        aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in known and alias.asname:
                        aliases[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                wrong.append(
                    f"{path.relative_to(ROOT)}:{node.lineno} uses "
                    f"{aliases[node.value.id]}.{node.attr}"
                )
    assert not wrong, "\n".join(sorted(wrong))


def test_every_layer_says_what_it_holds_and_may_import():
    for name in LAYERS:
        doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text()))
        assert doc and "Imports:" in doc, f"autograder/{name}/__init__.py"


def test_a_module_that_moved_still_imports_from_the_top_with_a_warning():
    import autograder
    from autograder.lab import plots

    with pytest.warns(DeprecationWarning, match="autograder.lab.plots"):
        from autograder import plots as old  # noqa: PLC0415
    assert old is plots
    with pytest.raises(ImportError):
        from autograder import no_such_module  # noqa: F401
    assert "plots" not in vars(autograder)  # looked up on use only
