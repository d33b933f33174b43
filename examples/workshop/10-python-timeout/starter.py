# A quote in time, in Python
# The quote service is slow today (900 ms) and the page must be ready within 250 ms. Wait for the
# quote at most 200 ms with asyncio.wait_for, and show the fallback quote when it times out
# (asyncio.TimeoutError). wait_for cancels the slow request, so the program ends early too.
# @expect wall < 500ms
# @expect outcome "fetch_quote" rejected
# @expect span "fetch_quote" < 400ms

import asyncio

FALLBACK = "Simplicity is prerequisite for reliability."


async def fetch_quote():
    await asyncio.sleep(0.9)  # a slow service
    return "Premature optimization is the root of all evil."


async def main():
    quote = await fetch_quote()
    print(f"quote of the day: {quote}")


if __name__ == "__main__":
    asyncio.run(main())
