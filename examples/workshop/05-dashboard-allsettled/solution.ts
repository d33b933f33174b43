// A dashboard that survives one broken widget
// The dashboard loads weather, stocks and news at the same time with Promise.all. Today the stock
// service fails, and Promise.all rejects as soon as one call fails: the whole dashboard stays
// blank. Use Promise.allSettled so the dashboard is drawn with the widgets that did load.
// @expect outcome "fetchStocks" rejected
// @expect outcome "renderDashboard" fulfilled
// @expect before "fetchNews" "renderDashboard"
// @expect wall < 500ms

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function fetchWeather(): Promise<string> {
  await sleep(200);
  return 'Weather: 21°C, clear';
}

async function fetchStocks(): Promise<string> {
  await sleep(100);
  throw new Error('stock service unavailable (503)');
}

async function fetchNews(): Promise<string> {
  await sleep(300);
  return 'News: local team wins';
}

async function renderDashboard(widgets: string[]): Promise<void> {
  await sleep(20); // drawing
  console.log(widgets.join('\n'));
}

async function main() {
  // Solution: allSettled waits for every call and reports each one's outcome; a failure
  // becomes a placeholder instead of taking the other widgets down with it.
  const results = await Promise.allSettled([fetchWeather(), fetchStocks(), fetchNews()]);
  const widgets = results.map((r) => (r.status === 'fulfilled' ? r.value : `(unavailable: ${r.reason.message})`));
  await renderDashboard(widgets);
}

main();
