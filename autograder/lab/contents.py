"""JupyterLab's contents manager for the course: a notebook opens unchanged.

When a notebook's kernel starts, JupyterLab writes the kernel's ``language_info`` into
the notebook's metadata and, unless it is deep-equal to what the file held, marks the
notebook as changed (the dot on its tab; the learner is asked to save on close). The
committed notebooks cannot hold the kernel's figures: they include the Python version
(``3.11.7``), which is the learner's, not the course's. So the server hands each notebook
out with the ``language_info`` that this environment's kernel will report (ipykernel's,
in the server's own Python, which is the kernel's: ``scripts/lab`` runs both from the
course's ``.venv``). The file on disk is not touched.

Used with ``--ServerApp.contents_manager_class=autograder.lab.contents.CourseContentsManager``.
"""

from __future__ import annotations

from typing import Any

from ipykernel.ipkernel import IPythonKernel
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager


def kernel_language_info() -> dict[str, Any]:
    """What ipykernel's ``kernel_info_reply`` says of the language, in this Python."""
    return dict(IPythonKernel.language_info)


def with_kernel_language_info(model: dict[str, Any]) -> dict[str, Any]:
    """``model`` (a contents-API model); a Python notebook's gets the kernel's
    ``language_info``, anything else is returned as it is."""
    if model.get("type") != "notebook" or not model.get("content"):
        return model
    metadata = model["content"]["metadata"]
    if metadata.get("language_info", {}).get("name", "python") == "python":
        metadata["language_info"] = kernel_language_info()
    return model


class CourseContentsManager(AsyncLargeFileManager):
    """The server's default contents manager, with :func:`with_kernel_language_info`
    applied to every notebook it reads."""

    async def get(
        self,
        path: Any,
        content: Any = True,
        type: Any = None,
        format: Any = None,
        require_hash: Any = False,
    ) -> Any:
        model = await super().get(
            path, content=content, type=type, format=format, require_hash=require_hash
        )
        return with_kernel_language_info(model)
