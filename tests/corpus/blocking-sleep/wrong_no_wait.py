"""Wrong: the wait is deleted instead of being made non-blocking.

Fast, but the report no longer takes its 0.3 s: the work was skipped (and answering fast
says nothing about doing the work at once, so `concurrent` is not judged).
"""
# expect-fail: still-waits, concurrent

from fastapi import FastAPI

app = FastAPI()


@app.get("/report")
async def report():
    return {"status": "ok"}
