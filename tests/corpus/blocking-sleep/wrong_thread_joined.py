"""Wrong: the sleep moves to a thread that is joined at once.

``join()`` blocks the event loop for as long as the sleep would have: nothing changed.
"""
# expect-fail: concurrent, loop-free

import threading
import time

from fastapi import FastAPI

app = FastAPI()


@app.get("/report")
async def report():
    worker = threading.Thread(target=time.sleep, args=(0.3,))
    worker.start()
    worker.join()
    return {"status": "ok"}
