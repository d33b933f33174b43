// Text from the program (labels, output lines) made safe to show: a terminal must not act on an
// ESC or a bidi override in a label, and an SVG must stay well-formed XML whatever a line holds.
// The characters stay visible: C0 controls become their Control Pictures (ESC → ␛, NUL → ␀), the
// others a `<U+202E>` code, so the user still sees that they were there.

// C0 controls except tab and newline, DEL, C1 controls, bidi embeddings/overrides/isolates/marks,
// lone surrogates and the two non-characters XML forbids.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function picture(c: string): string {
  const code = c.charCodeAt(0);
  if (code < 0x20) return String.fromCharCode(0x2400 + code); // ␀ … ␟
  if (code === 0x7f) return '\u2421'; // ␡
  if (code >= 0xd800 && code <= 0xdfff) return '\ufffd';
  return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
}

/** `text` with every control, bidi-control and unpaired surrogate character shown as a visible stand-in; tabs and newlines kept. */
export function visibleText(text: string): string {
  return text.replace(UNSAFE, picture);
}

/** One line of `text` for a label: as visibleText, and tabs and newlines as ⇥ and ↵. */
export function visibleLine(text: string): string {
  return visibleText(text.replace(/\t/g, '\u21e5').replace(/\n/g, '\u21b5'));
}
