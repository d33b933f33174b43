// "Still waiting" in the panel of a real VS Code workbench: a run that exits with code 13 lists the
// await that never finished with its cause, a click on the cause shows its line in the editor, and
// selecting a pending bar of the chain marks its entry.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';

import { cursorPosition, launchWorkbench, repoRoot, screenshot, type Workbench } from './codeServer';
import { pointOn, runFromPalette, spanBoxes, waitFor } from './timelineView';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'hangs');

describe('Still waiting in the panel', function () {
  this.timeout(180_000);
  let wb: Workbench;

  before(async () => {
    wb = await launchWorkbench({ folder: fixtures });
  });
  after(async () => {
    await wb?.close();
  });

  it('lists the await that never finished, its cause reveals the line, and a pending bar marks its entry', async () => {
    const view = await runFromPalette(wb, 'forgotten-resolve.ts', ['failed']);
    const cause = view.locator('.at-still-cause');
    await waitFor('the still-waiting entry', async () => ((await cause.count()) === 1 ? true : undefined));
    assert.match(await view.locator('.at-still-summary').innerText(), /^Still waiting \(1\)$/);
    assert.match(await view.locator('.at-still-note').innerText(), /exit code 13/);
    assert.equal(await cause.innerText(), 'Line 5: resolve was stored in this.waiters at line 5; nothing called it');
    assert.match(await view.locator('.at-still-chain').innerText(), /^await main\(\) :18 → await gate\.wait\(\) :15 → new Promise\(…\) :4$/);
    await screenshot(wb.page, 'e2e-still-waiting');

    await cause.click();
    const at = await waitFor('the cursor on line 5', async () => {
      const p = await cursorPosition(wb.page);
      return p?.line === 5 ? p : undefined;
    });
    assert.equal(at.line, 5);

    const boxes = await spanBoxes(view);
    const pending = boxes.find((b) => b.kind === 'await' && b.label === 'gate.wait()');
    assert.ok(pending, `a bar for await gate.wait(): ${boxes.map((b) => b.label).join(' | ')}`);
    const p = await pointOn(view, pending);
    await wb.page.mouse.click(p.x, p.y);
    await waitFor('the entry marked', async () => (await view.locator('.at-still-item[data-active="true"]').count()) === 1);
  });
});
