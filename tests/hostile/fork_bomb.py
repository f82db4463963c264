"""Forks while importing: every child sleeps, the parent keeps forking. Bounded at 2000
forks so that a machine without any limit still survives the test."""

import os
import time

from fastapi import FastAPI

app = FastAPI()
for _ in range(2000):
    try:
        if os.fork() == 0:
            time.sleep(3600)
            os._exit(0)
    except OSError:
        time.sleep(0.001)
time.sleep(3600)
