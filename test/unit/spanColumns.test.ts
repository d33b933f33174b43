// A large run's HTML report: spans packed in gzip-compressed columns, unpacked in the page.
import * as assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';

import { EMBEDDED_SPANS_ID, PACK_SPANS_FROM, renderHtmlReport } from '../../src/engine/exportHtml';
import { packSpans, unpackSpans } from '../../src/shared/spanColumns';
import { bigTimeline } from './helpers';

describe('spans packed in columns', function () {
  this.timeout(30_000);
  it('unpack gives back every span exactly, pending ones and rejected ones included', () => {
    const t = bigTimeline(5000);
    const packed = packSpans(t.spans);
    assert.ok(packed.sites.length <= 12, `${packed.sites.length} distinct sites`);
    // Off an 8-byte boundary, as a decoder may hand them over.
    const shifted = new Uint8Array(packed.bytes.length + 3).subarray(3);
    shifted.set(packed.bytes);
    assert.deepEqual(unpackSpans(packed.sites, shifted), t.spans);
    assert.throws(() => unpackSpans(packed.sites, packed.bytes.subarray(0, 100)), /bytes for 5000 spans/);
  });

  it(`a report of ${PACK_SPANS_FROM.toLocaleString('en-US')} spans or more carries them packed, far smaller than JSON`, () => {
    const t = bigTimeline(50_000);
    const html = renderHtmlReport(t, '', '');
    const json = JSON.stringify(t).length;
    assert.ok(html.length < json / 3, `report ${html.length} bytes, JSON ${json}`);
    const b64 = new RegExp(`<script type="text/plain" id="${EMBEDDED_SPANS_ID}" data-count="50000">([^<]*)</script>`).exec(html)?.[1];
    assert.ok(b64, 'the packed spans element');
    const sites = JSON.parse(/<script type="application\/json" id="timeline-sites">([^<]*)<\/script>/.exec(html)![1]);
    assert.deepEqual(unpackSpans(sites, gunzipSync(Buffer.from(b64, 'base64'))), t.spans);
    const small = renderHtmlReport(bigTimeline(50), '', '');
    assert.ok(!small.includes(EMBEDDED_SPANS_ID), 'a small run keeps its spans in the JSON');
  });
});
