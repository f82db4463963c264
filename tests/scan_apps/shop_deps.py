"""The shop's dependencies: one blocks the event loop."""

import time


async def current_user() -> str:
    time.sleep(0.15)  # PROBLEM: blocks-loop (a sync session lookup in an async dependency)
    return "ada"
