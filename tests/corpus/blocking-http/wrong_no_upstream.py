"""Wrong: answers at once with a made-up temperature, never asking the upstream."""
# expect-fail: responses, upstream-concurrency

from fastapi import FastAPI

app = FastAPI()


@app.get("/weather/{city}")
async def weather(city: str):
    return {"city": city, "temp_c": 20}
