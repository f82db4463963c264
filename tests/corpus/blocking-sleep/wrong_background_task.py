"""Wrong: the wait moves to a background task, which runs after the answer.

The loop stays free (a ``def`` task runs in a worker thread), but the report answers
before its work is done: a request sent alone is answered at once.
"""
# expect-fail: still-waits, concurrent

import time

from fastapi import BackgroundTasks, FastAPI

app = FastAPI()


@app.get("/report")
async def report(background_tasks: BackgroundTasks):
    background_tasks.add_task(time.sleep, 0.3)
    return {"status": "ok"}
