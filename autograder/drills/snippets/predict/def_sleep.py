"""The same blocking wait, in a plain def endpoint."""

import time

from fastapi import FastAPI

app = FastAPI()


@app.get("/work")
def work():
    time.sleep(0.3)  # stands for a blocking client call that takes 0.3 s
    return {"done": True}
