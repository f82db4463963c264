"""The course notebooks as files: committed without outputs, each exactly what its source
in ``course/_src/`` builds (``python scripts/notebooks.py build``), every link and id
resolving, each ending with the way on; every "your turn" starter fails and its
reference passes. Running the lessons themselves, top to bottom with their claims
asserted, is ``tests/course/test_browser.py``: in JupyterLab, as a learner runs them.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import nbformat
import pytest

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "course").glob("[0-9][0-9]*.ipynb"))
BUILDER = ROOT / "scripts" / "notebooks.py"


def load_builder():
    spec = importlib.util.spec_from_file_location("course_notebooks", BUILDER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_are_notebooks():
    assert NOTEBOOKS, "course/ has no numbered notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_has_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs, f"{path.name}: a code cell carries outputs"
            assert cell.execution_count is None, f"{path.name}: a code cell has an execution count"
    # Without a kernelspec, JupyterLab asks the learner to pick a kernel before anything runs.
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", (
        f"{path.name}: no python3 kernelspec"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_is_what_its_source_builds(path):
    builder = load_builder()
    source = ROOT / "course" / "_src" / f"{path.stem}.py"
    assert source.is_file(), f"{path.name} has no source {source.relative_to(ROOT)}"
    assert path.read_text(encoding="utf-8") == builder.render(source), (
        f"{path.name} differs from {source.relative_to(ROOT)}: run python scripts/notebooks.py build"
    )


def test_cell_ids_are_stable_and_unique():
    builder = load_builder()
    for source in builder.sources():
        once, twice = builder.render(source), builder.render(source)
        assert once == twice, f"{source.name}: two builds differ"
        ids = [c.id for c in nbformat.reads(once, as_version=4).cells]
        assert len(set(ids)) == len(ids), f"{source.name}: duplicate cell ids"
        assert all(i.startswith(source.name[:2] + "-") for i in ids), ids


def test_check_fails_on_a_stale_notebook(tmp_path, monkeypatch):
    """``check`` is not a rubber stamp: an edited source it has not built is reported."""
    builder = load_builder()
    course = tmp_path / "course"
    (course / "_src").mkdir(parents=True)
    source = builder.sources()[0]
    copy = course / "_src" / source.name
    copy.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(builder, "COURSE", course)
    monkeypatch.setattr(builder, "SOURCES", course / "_src")
    monkeypatch.setattr(builder, "ROOT", tmp_path)
    assert builder.disagreements() == [f"course/{source.stem}.ipynb: missing (source {source.name})"]
    builder.build([])
    assert builder.disagreements() == []
    copy.write_text(copy.read_text(encoding="utf-8") + "\n# %%\nprint('added')\n", encoding="utf-8")
    assert [p.split(":")[0] for p in builder.disagreements()] == [f"course/{source.stem}.ipynb"]
    (course / "99_orphan.ipynb").write_text("{}", encoding="utf-8")
    assert "course/99_orphan.ipynb: no source in course/_src/" in builder.disagreements()


def test_builder_command_line():
    run = [sys.executable, str(BUILDER)]
    ok = subprocess.run([*run, "check"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    usage = subprocess.run(run, capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "usage:" in usage.stderr
    helped = subprocess.run([*run, "--help"], capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0 and "build" in helped.stdout and "check" in helped.stdout



DRAWING = re.compile(r"^\s*(?:import matplotlib|from matplotlib\b)|\bFigure\(|\.subplots\(|\bplt\.", re.M)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lesson_cells_show_the_lesson_not_the_drawing(path):
    """A lesson's cells measure the service and call a picture; the drawing itself lives
    in the helpers (``course/_pictures.py``, ``autograder/lab/plots.py``)."""
    source = (ROOT / "course" / "_src" / f"{path.stem}.py").read_text(encoding="utf-8")
    drawing = [m.group(0).strip() for m in DRAWING.finditer(source)]
    assert not drawing, f"{path.name} draws its own pictures: {drawing}"

LINK = re.compile(r"\]\(([^)\s]+)\)")
GRADE = re.compile(r"autograder grade ([a-z0-9][a-z0-9-]*)")
DRILL = re.compile(r"autograder drill ([a-z0-9][a-z0-9-]*)")


def markdown(path):
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_link_and_id_in_the_text_resolves(path):
    """Relative links open a file that exists; every exercise and drill id named in a
    command is one the CLI knows."""
    from autograder.drills.catalog import DRILLS
    from autograder.judges import EXERCISES

    for text in markdown(path):
        for target in LINK.findall(text):
            if target.startswith(("http://", "https://")):
                continue
            assert (path.parent / target.split("#")[0]).exists(), f"{path.name}: broken link {target}"
        for exercise in GRADE.findall(text):
            assert exercise in EXERCISES, f"{path.name}: no exercise {exercise!r}"
        for drill in DRILL.findall(text):
            assert drill in DRILLS, f"{path.name}: no drill {drill!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_ends_with_the_way_on(path):
    """The last cell says what to do next: links that resolve (checked above), the
    exercise or drills that practise the lesson, and the next notebook."""
    last = nbformat.read(path, as_version=4).cells[-1]
    assert last.cell_type == "markdown" and "## The way on" in last.source, (
        f"{path.name} does not end with a 'The way on' cell"
    )
    assert LINK.findall(last.source), f"{path.name}: the way on links nowhere"
    assert DRILL.findall(last.source), f"{path.name}: the way on names no drill"
    later = [p for p in NOTEBOOKS if p.name > path.name]
    if later:
        assert f"]({later[0].name})" in last.source, f"{path.name}: no link to {later[0].name}"
    number = path.name[:2]
    if "01" <= number <= "05":  # the lessons that one graded exercise practises
        assert GRADE.findall(last.source), f"{path.name}: the way on names no graded exercise"
        for exercise in GRADE.findall(last.source):
            nbgrader = f"../exercises/source/{exercise}/{exercise}.ipynb"
            assert f"]({nbgrader})" in last.source, f"{path.name}: no link to {nbgrader}"


def load_turns():
    import sys

    sys.path.insert(0, str(ROOT / "course"))
    try:
        import _turns
    finally:
        sys.path.remove(str(ROOT / "course"))
    return _turns.TURNS


def test_each_your_turn_has_a_starter_and_a_reference():
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "course" / "_src").glob("*.py"))
    for turn in load_turns().values():
        assert turn.starter.is_file() and turn.reference.is_file(), turn.id
        assert f'TURNS["{turn.id}"]' in sources, f"no notebook uses {turn.id}"


def exercise_owned(turn) -> str | None:
    """The exercise whose own starter, solution and checks a turn is (07-orders, 09-relay):
    ``tests/grade/test_grading.py`` already grades those very files with those checks."""
    from autograder.judges import EXERCISES

    name = turn.starter.parent.name
    if (
        EXERCISES.get(name) is turn.exercise
        and turn.starter == ROOT / "exercises" / name / "starter.py"
        and turn.reference.parent == ROOT / "solutions" / name
    ):
        return name
    return None


OWN_TURNS = sorted(t for t, turn in load_turns().items() if not exercise_owned(turn))
EXERCISE_TURNS = sorted(t for t, turn in load_turns().items() if exercise_owned(turn))


@pytest.mark.parametrize("turn_id", EXERCISE_TURNS)
def test_a_turn_on_an_exercise_is_proven_by_its_gradings(turn_id):
    """Its starter fails on the check the turn names (test_grading asserts that set) and
    its reference is one of the solutions test_grading passes: graded once, not twice."""
    from tests.grade.test_grading import SOLUTIONS, STARTERS

    turn = load_turns()[turn_id]
    name = exercise_owned(turn)
    assert name is not None
    assert turn.fails_on in STARTERS[name][0], (turn_id, STARTERS[name][0])
    assert turn.reference in SOLUTIONS


@pytest.mark.slow
@pytest.mark.parametrize("turn_id", OWN_TURNS)
def test_your_turn_fails_untouched_and_passes_the_reference(turn_id):
    """The grader's checks tell the starter a learner gets from a working answer."""
    from autograder import lab

    turn = load_turns()[turn_id]
    try:
        untouched = turn.grade(turn.starter)
        assert not untouched.passed, untouched.render()
        assert turn.fails_on in untouched.failed, untouched.render()
        reference = turn.grade(turn.reference)
        assert reference.passed, reference.render()
    finally:
        lab.close()


def learners_file(tmp_path, text: str, name: str = "01-brew.py"):
    """A learner's copy, as in course/mine/: readable by the grader's own user."""
    mine = tmp_path / "mine" / name
    mine.parent.mkdir()
    for folder in (tmp_path, mine.parent):
        folder.chmod(0o755)
    mine.write_text(text)
    mine.chmod(0o644)
    return mine


@pytest.mark.slow
def test_a_fire_and_forget_brew_fails_still_brews_and_is_not_called_concurrent(tmp_path):
    """The brew left blocking but not awaited: the endpoint answers before brewing, and
    the burst looks slow only because earlier brews hold the loop."""
    from autograder import lab

    turn = load_turns()["01-brew"]
    starter = turn.starter.read_text()
    assert "    await steep(BREW)\n" in starter and "\nimport time\n" in starter
    mine = learners_file(tmp_path, starter.replace(
        "    await steep(BREW)\n", "    asyncio.create_task(steep(BREW))\n"
    ).replace("\nimport time\n", "\nimport asyncio\nimport time\n"))
    try:
        verdict = turn.grade(mine)
    finally:
        lab.close()
    print(verdict.render())
    checks = {c.name: c for c in verdict.checks}
    assert checks["serves"].passed and checks["responses"].passed, verdict.render()
    assert not checks["still-brews"].passed, verdict.render()
    assert "fire-and-forget brew" in checks["still-brews"].message
    assert not checks["concurrent"].passed and "not judged" in checks["concurrent"].message


@pytest.mark.slow
def test_the_diagnosis_quotes_the_file_as_saved_at_each_check(tmp_path):
    """A kernel lives across checks: after the learner edits the file, the blocking line
    quoted is the new one, not what the first check read."""
    from autograder import lab

    turn = load_turns()["01-brew"]
    starter = turn.starter.read_text()
    assert "    time.sleep(seconds)\n" in starter
    mine = learners_file(tmp_path, starter)
    try:
        first = turn.grade(mine)
        assert first.diagnosis and first.diagnosis.endswith(": time.sleep(seconds)"), first.render()
        # The learner moves the blocking call up a line and changes its text.
        mine.write_text(
            starter.replace('    """Wait for the tea."""\n    time.sleep(seconds)\n',
                            "    time.sleep(seconds * 1)\n")
        )
        second = turn.grade(mine)
    finally:
        lab.close()
    assert second.diagnosis is not None, second.render()
    line = int(first.diagnosis.split(":")[1].split()[0])
    assert second.diagnosis == f"01-brew.py:{line - 1} in steep: time.sleep(seconds * 1)"


@pytest.mark.slow
def test_a_price_worked_out_without_the_pricing_service_fails_06(tmp_path):
    """06-prices: deleting the blocking call (the price can be computed locally) is no fix;
    the pricing service must see the pages' calls in flight together."""
    from autograder import lab

    turn = load_turns()["06-prices"]
    reference = turn.reference.read_text()
    call = '    record = await asyncio.to_thread(fetch_record, item_id)\n    return 100 + int(str(record["item_id"]))\n'
    assert call in reference
    mine = learners_file(tmp_path, reference.replace(call, "    return 100 + item_id\n"), "06-prices.py")
    try:
        verdict = turn.grade(mine)
    finally:
        lab.close()
    failed = set(verdict.failed)
    assert failed == {"upstream-concurrency"}, verdict.render()
