"""Accounts API: every request gets a connection from the vendor's database driver."""

import time
from collections.abc import AsyncIterator
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


async def get_db() -> AsyncIterator[Connection]:
    conn = driver.connect()
    try:
        yield conn
    finally:
        conn.close()


@app.get("/accounts/{account_id}")
async def account(account_id: int, db: Annotated[Connection, Depends(get_db)]):
    return {"account_id": account_id, "balance": db.balance(account_id)}
