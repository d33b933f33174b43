# Dinner that never comes, in Python
# The waiter takes the order and the kitchen cooks whatever reaches its queue, but the program
# never ends. Stop it (in a terminal: --timeout 3000) and read "Still waiting": which line waits,
# on what, and why nothing comes. Fix it so the soup is served and nothing is left waiting.
# @expect pending == 0
# @expect before "waiter" "served"

import asyncio


async def waiter(dish):
    tickets = asyncio.Queue()
    await asyncio.sleep(0.05)
    await tickets.put(dish)


async def kitchen(tickets):
    dish = await tickets.get()
    await asyncio.sleep(0.1)
    served(dish)


def served(dish):
    print('served', dish)


async def main():
    tickets = asyncio.Queue()
    await asyncio.gather(waiter('soup'), kitchen(tickets))


asyncio.run(main())
