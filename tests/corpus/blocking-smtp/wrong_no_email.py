"""Wrong: the slow part is gone because the email is never sent."""
# expect-fail: emails-delivered

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Registration(BaseModel):
    email: str


@app.post("/register", status_code=201)
async def register(registration: Registration):
    return {"registered": registration.email}
