// Breakfast for one cook
// The toast takes 400 ms; the eggs need the pan heated (200 ms) and then fried (200 ms). Done one
// after another that is 800 ms. Let the toaster work while the pan heats and the eggs fry: start
// the toast, do the pan and the eggs in order, and wait for both.
// @expect wall < 600ms
// @expect overlap "makeToast" "heatPan"
// @expect overlap "makeToast" "fryEggs"
// @expect before "heatPan" "fryEggs"

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function makeToast(): Promise<string> {
  await sleep(400);
  return 'toast';
}

async function heatPan(): Promise<void> {
  await sleep(200);
}

async function fryEggs(): Promise<string> {
  await sleep(200);
  return 'eggs';
}

async function main() {
  const toast = await makeToast();
  await heatPan();
  const eggs = await fryEggs();
  console.log(`breakfast: ${toast} and ${eggs}`);
}

main();
