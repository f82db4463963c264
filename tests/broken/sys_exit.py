"""Broken: calls sys.exit while being imported (a leftover script entry point)."""

import sys

from fastapi import FastAPI

app = FastAPI()

sys.exit(2)
