"""Broken: an endless loop at import time (polling for something that never comes)."""

import time

from fastapi import FastAPI

ready = False
while not ready:
    time.sleep(0.05)

app = FastAPI()
