import * as assert from 'node:assert/strict';

import { grown } from '../../src/shared/columns';

describe('columns', () => {
  it('grows each kind of column, keeping its values first and zeros after', () => {
    for (const a of [Float64Array.of(1.5, -2), Int32Array.of(-7, 9), Uint32Array.of(4e9, 3), Uint8Array.of(255, 1), Int8Array.of(-1, 1)]) {
      const b = grown(a, 5);
      assert.equal(Object.getPrototypeOf(b), Object.getPrototypeOf(a));
      assert.deepEqual(Array.from(b), [...Array.from(a), 0, 0, 0]);
    }
  });

  it('never shrinks below what it holds', () => {
    assert.equal(grown(new Int32Array(8), 4).length, 8);
  });

  it('works after the program replaced typed arrays\u2019 set() and constructors', () => {
    const proto = Object.getPrototypeOf(Uint8Array.prototype);
    const set = proto.set;
    const ctor = Object.getOwnPropertyDescriptor(Float64Array.prototype, 'constructor')!;
    proto.set = () => {
      throw new Error('user set');
    };
    Object.defineProperty(Float64Array.prototype, 'constructor', { value: Array, configurable: true, writable: true });
    try {
      assert.deepEqual(Array.from(grown(Float64Array.of(3), 2)), [3, 0]);
    } finally {
      proto.set = set;
      Object.defineProperty(Float64Array.prototype, 'constructor', ctor);
    }
  });
});
