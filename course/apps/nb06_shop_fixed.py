"""The Corner Shop with its one blocking dependency moved off the event loop.

The rest of the shop is untouched: FastAPI's ``dependency_overrides`` swaps the
dependency that called the sync inventory client on the loop for one that calls it in a
worker thread. (In the shop's own code, you would edit ``stock_level`` itself.)
"""

import asyncio
from typing import Annotated, Any

from fastapi import Depends
from nb06_lagwatch import LoopLagMiddleware
from nb06_shop import api, inventory, product, stock_level


async def stock_level_in_a_thread(item: Annotated[dict[str, Any], Depends(product)]) -> int:
    return await asyncio.to_thread(inventory.stock_of, item["id"])


api.dependency_overrides[stock_level] = stock_level_in_a_thread
app = LoopLagMiddleware(api)
