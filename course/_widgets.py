"""Widget helpers shared by the course notebooks: a Run button for knobs, and running a
coroutine on a fresh loop (a click handler cannot ``await`` on the kernel's loop).

Widgets only act when clicked, so a notebook executed headless (CI, nbconvert: no
widget front end) displays the panel and moves on; its plain cells run the defaults.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import ipywidgets as widgets

T = TypeVar("T")


def run_button(
    action: Callable[..., Any], *, description: str = "Run", **controls: widgets.ValueWidget
) -> widgets.VBox:
    """``controls``, a button and an output area: a click calls ``action(**values)``
    and shows what it prints or displays (a failure's traceback too) below the button."""
    button = widgets.Button(description=description, button_style="primary")
    out = widgets.Output()

    def clicked(_: widgets.Button) -> None:
        button.disabled = True  # one run at a time: a run starts and stops a server
        out.clear_output(wait=True)
        try:
            with out:
                action(**{name: w.value for name, w in controls.items()})
        finally:
            button.disabled = False

    button.on_click(clicked)
    return widgets.VBox([*controls.values(), button, out])


def run_in_fresh_loop(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(main())`` in a thread of its own, waited for.

    The kernel's thread already runs an event loop (that is how top-level ``await``
    works), so ``asyncio.run`` cannot start there; a widget's click handler cannot
    ``await`` either. The loop and its default executor are shut down when it returns.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(main())
        except BaseException as exc:  # handed to the caller's thread, raised there
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="fresh-loop")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
