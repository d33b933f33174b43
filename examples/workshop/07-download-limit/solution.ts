// Be kind to the server: at most 3 downloads at once
// Eight images are downloaded at the same time, and the image server allows at most 3
// connections per client. Keep it parallel but never run more than 3 downloads at once: start 3
// workers that each take the next image from the list until none is left.
// @expect maxConcurrency <= 3
// @expect wall < 900ms
// @expect outcome "downloadImage" fulfilled

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function downloadImage(url: string): Promise<string> {
  await sleep(150); // the transfer
  return `${url} (12 KB)`;
}

// Solution: `limit` workers share one queue; each starts its next download when the last one ends.
async function mapWithLimit<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]);
    }
  }
  await Promise.all(Array.from({ length: limit }, () => worker()));
  return results;
}

async function main() {
  const urls = Array.from({ length: 8 }, (_, i) => `https://img.example/photo-${i + 1}.jpg`);
  const images = await mapWithLimit(urls, 3, (url) => downloadImage(url));
  console.log(`downloaded ${images.length} images`);
}

main();
