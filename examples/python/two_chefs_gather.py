# Two chefs, one kitchen: both orders are fetched at the same time, so the run takes about 2 s.
# Compare with two_chefs_sleep.py, where time.sleep makes them wait for each other (about 4 s).
import asyncio


async def fetch_data(source):
    print(f"Fetching from {source}...")
    await asyncio.sleep(2)  # gives the event loop back while waiting
    print(f"Got data from {source}")
    return {"source": source}


async def main():
    results = await asyncio.gather(fetch_data("Weather API"), fetch_data("News API"))
    print(f"Done: {len(results)} results")


if __name__ == "__main__":
    asyncio.run(main())
