// A quote, or a fallback in time
// The page shows a quote of the day, but the quote service is slow today (900 ms) and the page
// must be ready within 250 ms. Race the request against a 200 ms timeout (Promise.race) and show
// the fallback quote when the timeout wins. The request may finish in the background.
// @expect span "main()" < 400ms
// @expect span "fetchQuote" > 800ms
// @expect outcome "timeout" rejected

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const FALLBACK = 'Simplicity is prerequisite for reliability.';

async function fetchQuote(): Promise<string> {
  await sleep(900); // a slow service
  return 'Premature optimization is the root of all evil.';
}

async function main() {
  const quote = await fetchQuote();
  console.log(`quote of the day: ${quote}`);
}

main();
