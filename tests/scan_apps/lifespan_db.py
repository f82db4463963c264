"""Connects to its database at start-up: a database that is not there."""

import contextlib
import socket

from fastapi import FastAPI


@contextlib.asynccontextmanager
async def lifespan(app):
    conn = socket.create_connection(("127.0.0.1", 1), timeout=2)  # no database listens here
    yield
    conn.close()


app = FastAPI(lifespan=lifespan)


@app.get("/")
async def root():
    return {}
