"""Wrong: never calls the pricing service: every quote is the fallback, at once."""
# expect-fail: responses, healthy-fast

from fastapi import FastAPI

app = FastAPI()


@app.get("/quote/{symbol}")
async def quote(symbol: str):
    return {"symbol": symbol, "price": None}
