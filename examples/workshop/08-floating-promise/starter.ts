// The promise nobody waited for
// Before publishing, the editor saves a draft, but saveDraft() is called without await or
// .catch: its promise floats. When the save fails, nobody handles the rejection, Node ends the
// process, and the article is never published. Keep the save running beside the publish, but
// handle its failure (await both with Promise.allSettled, or attach a .catch).
// @expect outcome "saveDraft" rejected
// @expect outcome "publishArticle" fulfilled
// @expect overlap "saveDraft" "publishArticle"

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function saveDraft(text: string): Promise<void> {
  await sleep(100);
  throw new Error(`could not save ${text.length} characters: disk full`);
}

async function publishArticle(text: string): Promise<void> {
  await sleep(300);
  console.log(`published: ${text}`);
}

async function main() {
  const text = 'Await Timeline makes async code visible';
  saveDraft(text); // floating: nobody awaits it, nobody catches it
  await publishArticle(text);
}

main();
