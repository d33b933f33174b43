// Dinner that never comes
// The program stops without printing "served", with exit code 13: its top-level await never
// finished. Run it and read "Still waiting" under the chart (in VS Code: the list under the panel's
// header and the warning in the editor). It names the await that never finished and the line that
// should have settled it. Fix the kitchen so every order is served and nothing is left waiting.
// @expect pending == 0
// @expect outcome "serve" fulfilled

class Kitchen {
  private waiting: Array<(dish: string) => void> = [];

  order(dish: string): Promise<string> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      setTimeout(() => this.cook(dish), 100);
    });
  }

  private cook(dish: string): void {
    console.log(`cooked ${dish}`);
    // The dish is ready, but nobody tells the one waiting for it.
  }
}

async function serve(kitchen: Kitchen, dish: string): Promise<void> {
  const plate = await kitchen.order(dish);
  console.log(`served ${plate}`);
}

await serve(new Kitchen(), 'soup');
