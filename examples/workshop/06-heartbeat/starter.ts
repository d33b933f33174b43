// A heartbeat that keeps its beat
// The app promises to send a heartbeat 100 ms after start, then crunches a report for 400 ms in
// one synchronous loop. A timer only fires when the thread is free, so the heartbeat goes out
// late, after the whole report. Cut the work into small slices and give the event loop a turn
// between slices (await setImmediate), so the heartbeat goes out on time.
// @expect span "setTimeout(sendHeartbeat" < 250ms
// @expect blocked < 200ms
// @expect outcome "crunchReport" fulfilled

function sendHeartbeat(): void {
  console.log('heartbeat sent');
}

function crunchRows(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {} // stands for real CPU work: parsing, summing, formatting
}

async function crunchReport(): Promise<void> {
  crunchRows(400);
  console.log('report ready');
}

async function main() {
  setTimeout(sendHeartbeat, 100);
  await crunchReport();
}

main();
