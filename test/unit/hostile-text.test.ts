// Pure helpers for hostile text: output lines cut for marks (never the output itself), and the
// program's text shown without letting a terminal or an XML parser act on it.
import * as assert from 'node:assert/strict';

import { outputLines } from '../../src/runtime/patches';
import { visibleLine, visibleText } from '../../src/shared/safeText';
import { MAX_MARK_CHARS } from '../../src/shared/runtimeProtocol';

const lines = (chunk: unknown) => {
  const out: Array<[string, number | undefined]> = [];
  outputLines(chunk, (text, full) => out.push([text, full]));
  return out;
};

describe('outputLines: one mark per line, cut when long', () => {
  it('splits as the marks always did: no empty last line after a final newline, empty lines kept', () => {
    for (const chunk of ['a\n\nb\n', Buffer.from('a\n\nb\n')]) {
      assert.deepEqual(lines(chunk), [['a', undefined], ['', undefined], ['b', undefined]]);
    }
    assert.deepEqual(lines(''), [['', undefined]]);
    assert.deepEqual(lines('\n'), [['', undefined]]);
    assert.deepEqual(lines('no newline'), [['no newline', undefined]]);
  });

  it('a long line keeps its first characters and says how long it was; multi-byte characters stay whole', () => {
    const long = 'é'.repeat(MAX_MARK_CHARS + 5);
    assert.deepEqual(lines(long + '\nnext'), [['é'.repeat(MAX_MARK_CHARS) + '…', MAX_MARK_CHARS + 5], ['next', undefined]]);
    const bytes = Buffer.from(long);
    const [[text, full]] = lines(bytes);
    assert.equal(text, 'é'.repeat(MAX_MARK_CHARS) + '…');
    assert.equal(full, bytes.length, 'bytes of a byte write');
  });
});

describe('safeText: the program\'s text shown, never acted on', () => {
  it('shows ESC, NUL, BEL and DEL as control pictures and bidi controls as codes; keeps tab and newline', () => {
    assert.equal(visibleText('\u001b[31mred\u0000\u0007\u007f'), '␛[31mred␀␇␡');
    assert.equal(visibleText('a\u202eb\u2066c\u200fd'), 'a<U+202E>b<U+2066>c<U+200F>d');
    assert.equal(visibleText('tab\tnew\nline'), 'tab\tnew\nline');
    assert.equal(visibleText('ok 😀 é'), 'ok 😀 é', 'paired surrogates and ordinary text untouched');
    assert.equal(visibleText('lone \ud800 and \udc00'), 'lone \ufffd and \ufffd');
  });

  it('visibleLine makes one line of it', () => {
    assert.equal(visibleLine('a\tb\r\nc'), 'a⇥b␍↵c');
  });
});
