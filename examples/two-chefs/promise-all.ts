// Two chefs, one kitchen: both dishes cook at the same time with Promise.all.
// Expect: about 2 s in all, the two bars side by side.
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function cook(dish: string, minutes: number): Promise<string> {
  console.log(`start ${dish}`);
  await sleep(minutes * 1000);
  console.log(`done ${dish}`);
  return dish;
}

async function main() {
  const dishes = await Promise.all([cook('soup', 2), cook('pasta', 2)]);
  console.log(`served: ${dishes.join(', ')}`);
}

main();
