"""Your turn, notebook 01: a tea shop.

``GET /brew/{pot}`` brews a pot: it takes 0.3 s, then answers. One customer is served in
0.3 s; twenty at once and the last one waits six seconds, and the shop's health check
stops answering meanwhile. Make twenty pots brew together, each still taking its 0.3 s.
"""

import time

from fastapi import FastAPI

BREW = 0.3  # seconds a pot takes

app = FastAPI()


async def steep(seconds: float) -> None:
    """Wait for the tea."""
    time.sleep(seconds)


@app.get("/brew/{pot}")
async def brew(pot: str) -> dict[str, object]:
    await steep(BREW)
    return {"pot": pot, "brewed": True}
