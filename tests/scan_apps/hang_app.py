"""One route never answers (the loop stays free), one holds the loop for an hour."""

import asyncio
import time

from fastapi import FastAPI

app = FastAPI()


@app.get("/ok")
async def ok():
    return {"ok": True}


@app.get("/waits-forever")
async def waits_forever():
    await asyncio.Event().wait()  # PROBLEM: errors (hangs, loop free)


@app.get("/freezes")
async def freezes():
    time.sleep(3600)  # PROBLEM: blocks-loop (hangs with the loop)


@app.get("/after")
async def after():
    return {"still": "measured"}
