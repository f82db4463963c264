"""Reference answer, notebook 01: the wait is an ``await``, so the loop serves other pots."""

import asyncio

from fastapi import FastAPI

BREW = 0.3  # seconds a pot takes

app = FastAPI()


async def steep(seconds: float) -> None:
    """Wait for the tea, handing the loop back meanwhile."""
    await asyncio.sleep(seconds)


@app.get("/brew/{pot}")
async def brew(pot: str) -> dict[str, object]:
    await steep(BREW)
    return {"pot": pot, "brewed": True}
