// Weather for four cities
// The loop asks for one city's weather, waits for the answer, then asks for the next: four
// requests of 200 ms take 800 ms. The requests do not depend on each other: start them all
// and wait for all of them together (Promise.all with map), keeping the results in order.
// @expect wall < 500ms
// @expect maxConcurrency >= 4
// @expect span "fetchWeather" < 350ms

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function fetchWeather(city: string): Promise<string> {
  await sleep(200); // the network
  return `${city}: sunny`;
}

async function main() {
  const cities = ['Oslo', 'Lima', 'Pune', 'Perth'];
  const reports: string[] = [];
  for (const city of cities) {
    reports.push(await fetchWeather(city));
  }
  console.log(reports.join('\n'));
}

main();
