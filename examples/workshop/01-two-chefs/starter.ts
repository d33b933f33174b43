// Two chefs, one kitchen
// Both dishes should cook at the same time, but each chef "waits" by spinning in a loop, which
// holds the only thread: the pasta cannot start until the soup is done. Make the chefs wait
// without blocking (a promise around setTimeout) so Promise.all can run them side by side.
// @expect wall < 480ms
// @expect blocked < 50ms
// @expect overlap "soup" "pasta"

function waitBusy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {} // spins: nothing else can run meanwhile
}

async function cook(dish: string, ms: number): Promise<string> {
  console.log(`start ${dish}`);
  waitBusy(ms);
  console.log(`done ${dish}`);
  return dish;
}

async function main() {
  const dishes = await Promise.all([cook('soup', 300), cook('pasta', 300)]);
  console.log(`served: ${dishes.join(', ')}`);
}

main();
