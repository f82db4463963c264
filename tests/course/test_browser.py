"""The course as a learner meets it: JupyterLab started the way the README starts it, in
a real browser, every lesson run with *Run All* to its last cell.

The lessons run one after another in one page, as a learner keeps JupyterLab open: the
app loads once, each lesson is opened with *File > Open from Path…* and closed after its
run with its outputs discarded (autosave is off), and its kernel shut down.

CI runs the lessons here and nowhere else: what a learner sees in JupyterLab (subshell
threads for widget comms, IPython's history thread, stderr shown in red) is not what a
headless nbclient run sees, so the browser run is the one that asserts. Each lesson's
claims are ``assert`` cells on its own figures; a lesson passes when every code cell ran
and no cell shows an error or anything on stderr.

The course is served from a private copy of the working tree in a folder only its owner
may enter (``0700``, as a clone in ``/root`` is), with its own ``.venv`` made by the
README's set-up: the engine must serve what a learner's folder holds wherever it is
cloned. Also checked: what a self-paced learner sees around the lessons (the machinery
hidden, no news prompt, no nbgrader instructor panels) and a widget that redraws its
picture when moved.

Headless Chromium (Debian's package) is driven by Playwright. Without Chromium the
lessons run through nbclient instead (a developer's machine); CI requires the browser
(``COURSE_REQUIRE_BROWSER=1``). ``COURSE_SCREENSHOTS=DIR`` keeps each lesson's last
screen.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from tests.conftest import ROOT
from tests.jupyterlab import Lab, jupyterlab

pytestmark = pytest.mark.slow

NOTEBOOKS = sorted(p.name for p in (ROOT / "course").glob("[0-9][0-9]*.ipynb"))
WIDGET_NOTEBOOK = "02_def_vs_async.ipynb"  # its first slider redraws a timeline
LESSON_LIMIT_MS = 600_000  # a whole lesson; the slowest runs in about a minute
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# What JupyterLab shows in red: an exception's traceback and anything written to stderr
# both render with this mime type.
RED_OUTPUT = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
SHOTS = Path(os.environ["COURSE_SCREENSHOTS"]) if os.environ.get("COURSE_SCREENSHOTS") else None


def browser_required() -> bool:
    return bool(os.environ.get("COURSE_REQUIRE_BROWSER"))


def need_chromium() -> str:
    if CHROMIUM is None:
        if browser_required():
            pytest.fail("chromium is not installed (CI installs Debian's chromium package)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return CHROMIUM


def private_copy(into: Path) -> Path:
    """The working tree (tracked and new files, not what git ignores) copied into a
    folder only its owner may enter, set up with the README's own set-up script."""
    into.mkdir(mode=0o700)
    into.chmod(0o700)
    clone = into / "course-clone"
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():  # a file deleted but not yet staged is listed too
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    # uv from where this checkout's set-up found it (on PATH, or bootstrapped in .tools).
    path = os.pathsep.join([str(ROOT / ".tools" / "bin"), os.environ.get("PATH", "")])
    subprocess.run(
        ["bash", "scripts/setup"], cwd=clone, check=True, stdin=subprocess.DEVNULL,
        env={**os.environ, "PATH": path}, capture_output=True, timeout=600,
    )
    return clone


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    need_chromium()
    scratch = tmp_path_factory.mktemp("lab")
    clone = private_copy(scratch / "private")
    with jupyterlab(clone, scratch) as server:
        yield server


@pytest.fixture(scope="module")
def browser(lab: Lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Console:
    """JavaScript errors and missing assets a page reported while the test watched."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        self.missing: list[str] = []
        # A 404 shows in the console as "Failed to load resource"; it is judged by its
        # URL (a missing script or stylesheet breaks the UI; an API probe does not).
        page.on("console", lambda m: self.errors.append(m.text)
                if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("response", lambda r: self.missing.append(r.url) if r.status == 404 else None)

    def check(self) -> None:
        """What the page reported since the last check."""
        errors, missing = self.errors[:], self.missing[:]
        self.errors.clear()
        self.missing.clear()
        assert not errors, f"JavaScript errors in the console: {errors}"
        broken = [u for u in missing if u.split("?")[0].endswith((".js", ".css", ".woff2"))]
        assert not broken, f"the page could not load: {broken}"


def test_a_learner_sees_the_lessons_and_not_the_machinery(lab, browser, tmp_path):
    top, course = lab.listing(""), lab.listing("course")
    assert {"course", "exercises", "README.md"} <= top, top
    assert not top & {"autograder", "tests", "scripts", "benchmarks", "pyproject.toml"}, top
    assert "00_setup.ipynb" in course and "10_drills.ipynb" in course, course
    hidden = {n for n in course if n.startswith("_") or n == "apps"}
    assert not hidden, f"course/ lists machinery: {hidden}"

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(f"{lab.base}/?token={lab.token}&reset")  # the default page: the course map
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        assert "course/00_setup.ipynb" in page.url, page.url
        page.wait_for_selector('.jp-RenderedMarkdown h2:has-text("The course at a glance")', timeout=30_000)
        page.wait_for_timeout(3000)  # a news prompt would show by now: nothing to wait on
        page.screenshot(path=str(tmp_path / "first-view.png"))
        menus = page.locator("#jp-MainMenu .lm-MenuBar-itemLabel").all_inner_texts()
        assert "Nbgrader" not in menus, menus
        assert page.locator("text=Create Assignment").count() == 0
        assert page.locator(".jp-Toolbar >> text=Validate").count() == 0
        assert page.locator(".jp-toast-message >> text=/news/i").count() == 0
        page.click("#jp-MainMenu >> text=File")
        assert page.locator(".lm-Menu >> text=Assignment List").count() == 1
    finally:
        page.close()
        lab.shut_kernels_down()


TAB = "#jp-main-dock-panel .lm-TabBar-tab"  # a document's tab


class Learner:
    """One JupyterLab page kept open for every lesson, with what its console reported."""

    def __init__(self, browser, lab: Lab) -> None:
        self.lab = lab
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.console = Console(self.page)
        self.load()

    def load(self) -> None:
        """The app, loaded afresh on a page with no kernel (the course's README), closed."""
        self.page.goto(f"{self.lab.base}/lab/tree/course/README.md?token={self.lab.token}&reset")
        self.close("README.md")

    def open_lesson(self, notebook: str) -> None:
        if self.page.locator(".jp-Notebook").count():  # a lesson left open by a failed run
            self.load()
        self.page.click("#jp-MainMenu >> text=File")
        self.page.click('.lm-Menu .lm-Menu-itemLabel:text-is("Open from Path…")')
        self.page.fill(".jp-Dialog input", f"course/{notebook}")
        self.page.keyboard.press("Enter")
        self.page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)

    def close(self, name: str) -> None:
        """Close a document's tab, its outputs discarded, and shut every kernel down."""
        tab = self.page.locator(TAB, has_text=name)
        tab.wait_for(timeout=60_000)
        tab.locator(".lm-TabBar-tabCloseIcon").click()
        with contextlib.suppress(Exception):  # no dialog: nothing was changed
            self.page.locator('.jp-Dialog button:has-text("Discard")').click(timeout=3_000)
        tab.wait_for(state="detached", timeout=10_000)
        self.lab.shut_kernels_down()


def run_all(learner: Learner, notebook: str) -> None:
    page = learner.page
    learner.open_lesson(notebook)
    page.wait_for_selector("#jp-main-statusbar >> text=Idle", timeout=60_000)
    # Opening a lesson changes nothing in it (its kernel's start once marked it unsaved).
    assert page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty").count() == 0, (
        f"{notebook} opens as unsaved"
    )
    page.click("#jp-MainMenu >> text=Run")
    page.click('.lm-Menu .lm-Menu-itemLabel:text-is("Run All Cells")')
    # Done: no cell queued or running, and every code cell ran, or a cell failed (Run All
    # stops there and clears the queue).
    page.wait_for_function(
        """(red) => {
            const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
                .map(e => e.textContent);
            if (!prompts.length || prompts.some(t => t.includes('*'))) return false;
            const ran = prompts.filter(t => /\\[\\d+\\]/.test(t)).length;
            return ran === prompts.length || (ran > 0 && document.querySelector(red) !== null);
        }""",
        arg=RED_OUTPUT,
        timeout=LESSON_LIMIT_MS,
        polling=500,
    )


def what_the_learner_sees(page) -> tuple[int, int, list[str]]:
    """(code cells, code cells that ran, the text of every red output)."""
    prompts = page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt").all_text_contents()
    ran = sum(1 for t in prompts if t.strip("[]: ").isdigit())
    return len(prompts), ran, page.locator(RED_OUTPUT).all_text_contents()


def widget_redraws_its_picture(page) -> None:
    """Move the notebook's first slider and press its Run button: a new picture."""
    slider = page.wait_for_selector(".jp-OutputArea .widget-slider", timeout=60_000)
    panel = slider.evaluate_handle("el => el.closest('.widget-vbox')").as_element()
    assert panel is not None

    def run_and_wait_for_new_picture(previous: str | None) -> str:
        panel.wait_for_selector("button.mod-primary:not([disabled])").click()
        page.wait_for_function(
            "([el, old]) => { const img = el.querySelector('.widget-output img');"
            " return img && img.src !== old; }",
            arg=[panel, previous],
            timeout=120_000,
        )
        return panel.query_selector(".widget-output img").get_attribute("src")

    first = run_and_wait_for_new_picture(None)
    handle = slider.wait_for_selector(".noUi-handle")
    before = slider.inner_text()
    handle.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    assert slider.inner_text() != before, "the slider did not move"
    assert run_and_wait_for_new_picture(first) != first


@pytest.fixture(scope="module")
def learner(lab: Lab, browser) -> Iterator[Learner]:
    you = Learner(browser, lab)
    try:
        yield you
    finally:
        you.page.close()


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_lesson_runs_to_its_end_in_jupyterlab(notebook, request, tmp_path):
    if CHROMIUM is None and not browser_required():
        return run_headless(notebook)
    learner = request.getfixturevalue("learner")
    page = learner.page
    started = time.monotonic()
    try:
        run_all(learner, notebook)
        cells, ran, red = what_the_learner_sees(page)
        print(f"{notebook}: {ran} of {cells} code cells ran in {time.monotonic() - started:.0f} s")
        assert not red, f"{notebook} shows red output:\n" + "\n---\n".join(red)
        assert ran == cells, f"{notebook}: only {ran} of {cells} code cells ran"
        if notebook == WIDGET_NOTEBOOK:
            widget_redraws_its_picture(page)
    finally:
        with contextlib.suppress(Exception):  # the last screen, to look at on failure
            shots = SHOTS or tmp_path
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / f"{Path(notebook).stem}-end.png"))
        with contextlib.suppress(Exception):  # else the next lesson loads the app afresh
            learner.close(notebook)
    learner.console.check()


def run_headless(notebook: str) -> None:
    """The lesson through nbclient (no browser on this machine): the same claims, without
    what only JupyterLab shows."""
    from nbclient import NotebookClient

    path = ROOT / "course" / notebook
    nb = nbformat.read(path, as_version=4)
    os.environ["COURSE_REFERENCE"] = "1"  # the kernel inherits it
    try:
        NotebookClient(nb, timeout=180, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        del os.environ["COURSE_REFERENCE"]
    red = [o for c in nb.cells for o in c.get("outputs", [])
           if o.output_type == "error" or o.get("name") == "stderr"]
    assert not red, f"{notebook} shows red output: {red}"
