"""A valid fix that leaves things running: a new-session child that ignores SIGTERM and
clears its environment (no run token), a double-forked daemon, a non-daemon
multiprocessing child, a thread that never ends and an atexit hook that never returns."""

import asyncio
import atexit
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time

from fastapi import FastAPI

MARKER = "hostile-escapee-marker"


def _forever() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        time.sleep(1)


subprocess.Popen(
    [
        sys.executable,
        "-c",
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True: time.sleep(1)",
        MARKER,
    ],
    start_new_session=True,
    env={},
    stdin=subprocess.DEVNULL,
)
if os.fork() == 0:  # double fork: the grandchild is reparented, in a session of its own
    os.setsid()
    if os.fork() == 0:
        _forever()
    os._exit(0)
multiprocessing.Process(target=_forever, daemon=False).start()
threading.Thread(target=_forever, daemon=False).start()
atexit.register(_forever)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)

app = FastAPI()


@app.get("/report")
async def report():
    await asyncio.sleep(0.3)
    return {"status": "ok"}
