# Two chefs in Python
# Both orders should be fetched at the same time with asyncio.gather, but fetch_order waits with
# time.sleep, which holds the whole event loop: the second order starts only when the first one
# is done. Wait the asyncio way (await asyncio.sleep) so gather can overlap them.
# @expect wall < 480ms
# @expect blocked < 50ms
# @expect maxConcurrency >= 2

import asyncio
import time


async def fetch_order(dish):
    print(f"cooking {dish}...")
    time.sleep(0.3)  # blocks the event loop: nothing else runs meanwhile
    print(f"{dish} ready")
    return dish


async def main():
    dishes = await asyncio.gather(fetch_order("soup"), fetch_order("pasta"))
    print(f"served: {', '.join(dishes)}")


if __name__ == "__main__":
    asyncio.run(main())
