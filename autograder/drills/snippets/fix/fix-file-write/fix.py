"""Notes service, fixed: the blocking write runs in a worker thread, off the event loop."""

import asyncio
import os
import time

from fastapi import FastAPI
from pydantic import BaseModel

AUDIT_LOG = os.environ["AUDIT_LOG"]

app = FastAPI()


class Note(BaseModel):
    note_id: str
    text: str


def append_to_share(path: str, line: str) -> None:
    with open(path, "a") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())
        time.sleep(0.1)  # stands for the share's 100 ms write round trip


@app.post("/notes", status_code=201)
async def add_note(note: Note):
    await asyncio.to_thread(append_to_share, AUDIT_LOG, f"note {note.note_id}: {note.text}")
    return {"stored": note.note_id}
