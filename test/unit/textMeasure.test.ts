// The canvas's text widths are cached per font: the gutter measures each row's count in one font and
// its label in another, and switching between them must not measure every text again.
import assert from 'node:assert/strict';
import { TextMeasure } from '../../src/webview/render/textMeasure';

describe('text widths', () => {
  it('measures each text once per font, also when two fonts alternate, and gives each font its own widths', () => {
    let calls = 0;
    const ctx = {
      font: '',
      measureText(text: string) {
        calls++;
        return { width: text.length * (this.font === '12px mono' ? 7 : 6) };
      },
    };
    const text = new TextMeasure(ctx);
    for (let round = 0; round < 3; round++) {
      for (let row = 0; row < 100; row++) {
        text.setFont('11px sans');
        assert.equal(text.width(`×${row}`), `×${row}`.length * 6);
        text.setFont('12px mono');
        assert.equal(text.width(`label ${row}`), `label ${row}`.length * 7);
        assert.equal(ctx.font, '12px mono', 'the context gets the font');
      }
    }
    assert.equal(calls, 200, 'each text measured once in its font');
  });
});
