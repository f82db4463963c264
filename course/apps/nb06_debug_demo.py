"""What asyncio's debug mode reports about a blocked loop, and what it misses.

    PYTHONASYNCIODEBUG=1 python nb06_debug_demo.py one-long
    PYTHONASYNCIODEBUG=1 python nb06_debug_demo.py many-short

Debug mode times every callback the loop runs and logs those slower than
``loop.slow_callback_duration`` (0.1 s by default). ``one-long`` blocks the loop once
for 300 ms; ``many-short`` blocks it for about as long with 100 steps of 3 ms, all in
one iteration of the loop. A lag sampler prints how late the loop was in both cases.
"""

from __future__ import annotations

import asyncio
import sys
import time


def work(seconds: float) -> None:
    time.sleep(seconds)  # stands for any blocking call: a sync client, a hash, a query


async def step(seconds: float) -> None:
    work(seconds)


async def sampler(lags: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(0.01)
        lags.append(loop.time() - before - 0.01)


async def main(mode: str) -> None:
    loop = asyncio.get_running_loop()
    print(f"debug mode: {loop.get_debug()}, slow_callback_duration: {loop.slow_callback_duration} s")
    lags: list[float] = []
    watch = asyncio.create_task(sampler(lags))
    await asyncio.sleep(0.05)
    if mode == "one-long":
        await step(0.3)
    else:
        await asyncio.gather(*(step(0.003) for _ in range(100)))
    await asyncio.sleep(0.05)
    watch.cancel()
    print(f"longest loop lag seen by the sampler: {max(lags) * 1000:.0f} ms", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
