"""The same 0.2 s connect, in a plain def dependency of an async endpoint."""

import time
from typing import Annotated

from fastapi import Depends, FastAPI

app = FastAPI()


def get_db():
    time.sleep(0.2)  # stands for a sync driver's connect()
    return {"connected": True}


@app.get("/users/{user_id}")
async def user(user_id: int, db: Annotated[dict, Depends(get_db)]):
    return {"user_id": user_id}
