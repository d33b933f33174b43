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
  try {
    const widgets = await Promise.all([fetchWeather(), fetchStocks(), fetchNews()]);
    await renderDashboard(widgets);
  } catch (err) {
    console.log(`dashboard failed: ${(err as Error).message}`);
  }
}

main();
