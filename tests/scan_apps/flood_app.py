"""Floods its output while being imported."""

import sys

from fastapi import FastAPI

chunk = "x" * 65536 + "\n"
while True:
    sys.stdout.write(chunk)

app = FastAPI()
