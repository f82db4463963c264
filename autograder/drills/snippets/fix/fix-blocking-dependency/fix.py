"""Accounts API, fixed: a plain def dependency, so FastAPI runs the connect in its thread pool."""

import time
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI

app = FastAPI()


class Connection:
    def balance(self, account_id: int) -> int:
        return 100 + account_id

    def close(self) -> None:
        pass


class VendorDriver:
    """The vendor's synchronous driver (simulated: a connect takes 0.2 s)."""

    def connect(self) -> Connection:
        time.sleep(0.2)
        return Connection()


driver = VendorDriver()


def get_db() -> Iterator[Connection]:
    conn = driver.connect()
    try:
        yield conn
    finally:
        conn.close()


@app.get("/accounts/{account_id}")
async def account(account_id: int, db: Annotated[Connection, Depends(get_db)]):
    return {"account_id": account_id, "balance": db.balance(account_id)}
