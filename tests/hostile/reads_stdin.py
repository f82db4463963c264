"""Reads standard input while importing, and again in every request."""

import asyncio
import sys

from fastapi import FastAPI

WHAT_THE_GRADER_SAID = sys.stdin.read()

app = FastAPI()


@app.get("/report")
async def report():
    line = await asyncio.to_thread(input)  # EOFError: there is nothing to read
    return {"status": line}
