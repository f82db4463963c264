"""Wrong: builds the item locally instead of asking the upstream (bodies happen to match)."""
# expect-fail: upstream-concurrency

from fastapi import FastAPI

app = FastAPI()


@app.get("/legacy/{item_id}")
async def legacy(item_id: int):
    return {"item_id": item_id, "name": f"item-{item_id}"}
