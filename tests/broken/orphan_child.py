"""Not broken, but hostile: a correct fix that also starts a detached helper process.

The helper leaves the submission's session (and its process group); the grader must
still find it and stop it at the end of the run.
"""

import asyncio
import subprocess
import sys

from fastapi import FastAPI

subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(300)"],
    start_new_session=True,
    stdin=subprocess.DEVNULL,
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
)
app = FastAPI()


@app.get("/report")
async def report():
    await asyncio.sleep(0.3)
    return {"status": "ok"}
