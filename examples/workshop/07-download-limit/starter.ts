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

async function main() {
  const urls = Array.from({ length: 8 }, (_, i) => `https://img.example/photo-${i + 1}.jpg`);
  const images = await Promise.all(urls.map((url) => downloadImage(url)));
  console.log(`downloaded ${images.length} images`);
}

main();
