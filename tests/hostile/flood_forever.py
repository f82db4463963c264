"""Writes to stdout without end while importing."""

import sys

from fastapi import FastAPI

app = FastAPI()
chunk = "x" * (1 << 20) + "\n"
while True:
    sys.stdout.write(chunk)
