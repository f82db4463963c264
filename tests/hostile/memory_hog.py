"""Allocates (and touches) memory without end while importing."""

from fastapi import FastAPI

app = FastAPI()
hog = []
while True:
    hog.append(b"m" * (32 << 20))
