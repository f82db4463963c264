"""Wrong: the wait is deleted instead of being made non-blocking.

Fast and concurrent, but the report no longer takes its 0.3 s: the work was skipped.
"""
# expect-fail: still-waits

from fastapi import FastAPI

app = FastAPI()


@app.get("/report")
async def report():
    return {"status": "ok"}
