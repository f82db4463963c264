"""A course notebook opens in JupyterLab unchanged: the server hands it out with the
``language_info`` its kernel will report, so the kernel's start changes nothing (JupyterLab
marks a notebook unsaved when the kernel's ``language_info`` differs from the file's)."""

from __future__ import annotations

import asyncio
import shutil

from jupyter_client.manager import start_new_kernel

from autograder.lab.contents import CourseContentsManager
from tests.conftest import ROOT

NOTEBOOK = ROOT / "course" / "00_setup.ipynb"


def reported_by_a_kernel() -> dict:
    """``language_info`` from a real ``python3`` kernel's ``kernel_info_reply``."""
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        return client.kernel_info(reply=True, timeout=30)["content"]["language_info"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_a_notebook_is_handed_out_with_the_kernels_language_info(tmp_path):
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)
    on_disk = (tmp_path / NOTEBOOK.name).read_bytes()
    manager = CourseContentsManager(root_dir=str(tmp_path))
    model = asyncio.run(manager.get(NOTEBOOK.name))
    kernel = reported_by_a_kernel()
    assert model["content"]["metadata"]["language_info"] == kernel
    assert kernel != {"name": "python"}  # what the file holds: opening alone would change it
    assert (tmp_path / NOTEBOOK.name).read_bytes() == on_disk  # the file is not rewritten
    listing = asyncio.run(manager.get(""))  # directories and other files pass through
    assert listing["type"] == "directory" and NOTEBOOK.name in {c["name"] for c in listing["content"]}
