// Two chefs, one kitchen, but each chef "waits" by spinning: a busy-wait holds the thread,
// so nothing else can happen. Expect: about 4 s, two blocking bars one after the other.
function sleepBusy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {}
}

async function cook(dish: string, minutes: number): Promise<string> {
  console.log(`start ${dish}`);
  sleepBusy(minutes * 1000);
  console.log(`done ${dish}`);
  return dish;
}

async function main() {
  const dishes = await Promise.all([cook('soup', 2), cook('pasta', 2)]);
  console.log(`served: ${dishes.join(', ')}`);
}

main();
