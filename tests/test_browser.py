"""The main job in a real browser: JupyterLab started the way the README starts it,
a course notebook run from the UI, a widget moved, and its timeline redrawn; and what
a self-paced learner sees around the lessons (the machinery hidden, no news prompt, no
nbgrader instructor panels, the student's Assignment List kept).

Widgets render only in a browser, so this is the one test that sees what a learner
sees. Headless Chromium (Debian's package) is driven by Playwright; no JavaScript error
may reach the console.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

NOTEBOOK = "course/02_def_vs_async.ipynb"
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert proc.poll() is None, "JupyterLab exited during start-up"
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url, timeout=2).read()
            return
        time.sleep(0.2)  # polling a server that is starting: no event to wait on
    raise AssertionError(f"JupyterLab did not answer {url} within {within:.0f} s")


@contextlib.contextmanager
def jupyterlab(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``bash scripts/lab`` (the README's command) on a free port; stopped afterwards."""
    port, token = _free_port(), secrets.token_hex(16)
    # The learner's settings, with one change: no autosave, so running a course notebook
    # from the UI never writes its outputs into the committed file.
    settings = tmp_path / "settings"
    docmanager = settings / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True)
    (docmanager / "plugin.jupyterlab-settings").write_text('{"autosave": false}')
    log = open(tmp_path / "lab.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            "bash",
            "scripts/lab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env={
            **os.environ,
            "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
            # A fresh learner: no saved workspace (open tabs) and no user settings (a news
            # prompt answered once would hide whether the course's settings answer it).
            "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
            "JUPYTERLAB_SETTINGS_DIR": str(settings),
        },
    )
    try:
        _wait_until_up(f"http://127.0.0.1:{port}/api/status?token={token}", proc, 120)
        yield f"http://127.0.0.1:{port}", token
    finally:
        family = []
        with contextlib.suppress(psutil.Error):
            family = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGTERM)  # the server shuts its kernels down cleanly
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        for p in family:  # kernels run in sessions of their own
            with contextlib.suppress(psutil.Error):
                p.kill()
        log.close()


def need_chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("COURSE_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed (CI installs Debian's chromium package)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return CHROMIUM


def listing(base: str, token: str, path: str) -> set[str]:
    """What the file browser lists in ``path`` (the server's contents API, which it reads)."""
    with urllib.request.urlopen(f"{base}/api/contents/{path}?token={token}", timeout=10) as r:
        return {item["name"] for item in json.load(r)["content"]}


def test_a_learner_sees_the_lessons_and_not_the_machinery(tmp_path):
    chromium = need_chromium()
    from playwright.sync_api import sync_playwright

    with jupyterlab(tmp_path) as (base, token), sync_playwright() as pw:
        top, course = listing(base, token, ""), listing(base, token, "course")
        assert {"course", "exercises", "README.md"} <= top, top
        assert not top & {"autograder", "tests", "scripts", "benchmarks", "pyproject.toml"}, top
        assert "00_setup.ipynb" in course and "09_drills.ipynb" in course, course
        hidden = {n for n in course if n.startswith("_") or n == "apps"}
        assert not hidden, f"course/ lists machinery: {hidden}"

        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{base}/?token={token}")  # the default page: the course map
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            assert "course/00_setup.ipynb" in page.url, page.url
            page.wait_for_selector(".jp-RenderedMarkdown h2:has-text(\"The course at a glance\")", timeout=30_000)
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
            browser.close()


def test_notebook_runs_from_the_ui_and_a_widget_redraws_the_timeline(tmp_path):
    need_chromium()
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    missing: list[str] = []
    with jupyterlab(tmp_path) as (base, token), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            # A 404 shows in the console as "Failed to load resource"; it is judged by its
            # URL below (a missing script or stylesheet breaks the UI; an API probe does not).
            page.on(
                "console",
                lambda m: (
                    errors.append(m.text)
                    if m.type == "error" and not m.text.startswith("Failed to load resource")
                    else None
                ),
            )
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            page.wait_for_selector("#jp-main-statusbar >> text=Idle", timeout=60_000)

            page.click("#jp-MainMenu >> text=Run")
            page.click('.lm-Menu .lm-Menu-itemLabel:text-is("Run All Cells")')

            # The knob: the first slider the notebook shows, with its Run button and output.
            slider = page.wait_for_selector(".jp-OutputArea .widget-slider", timeout=120_000)
            panel = slider.evaluate_handle("el => el.closest('.widget-vbox')").as_element()
            assert panel is not None
            page.wait_for_selector("#jp-main-statusbar >> text=Idle", timeout=180_000)

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
            second = run_and_wait_for_new_picture(first)
            assert second != first
            page.screenshot(path=str(tmp_path / "after.png"))
        finally:
            with contextlib.suppress(Exception):  # what the page showed, to look at on failure
                page.screenshot(path=str(tmp_path / "last.png"))
                failed = page.locator(".jp-OutputArea-output[data-mime-type*='error']")
                (tmp_path / "errors.txt").write_text("\n\n".join(failed.all_inner_texts()))
            browser.close()
    assert not errors, f"JavaScript errors in the console: {errors}"
    broken_assets = [u for u in missing if u.split("?")[0].endswith((".js", ".css", ".woff2"))]
    assert not broken_assets, f"the page could not load: {broken_assets}"
