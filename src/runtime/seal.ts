// The tag of a FRAME_SEALED frame (see shared/runtimeProtocol.ts), computed alike by the Node runtime
// that seals and the engine that checks (the engine imports it from here, as it does the transform).
import { SEAL_MAC_BYTES, sealNonce, type SealMac } from '../shared/runtimeProtocol';

// Taken at the first frame sealed (the runtime's hello, before the program runs): what the program
// does to the crypto module does not reach the runtime. Not at load: the watchdog thread seals
// only once a run has come, and node's crypto is tens of ms of its start on a busy machine.
let createCipheriv: typeof import('node:crypto').createCipheriv | undefined;
let createHmac: typeof import('node:crypto').createHmac | undefined;
function takeCrypto(): void {
  const crypto = require('node:crypto') as typeof import('node:crypto');
  createCipheriv = crypto.createCipheriv;
  createHmac = crypto.createHmac;
}

/** SEAL_MAC_BYTES that only a holder of `key` can compute for these frames at this place in the stream. */
export function sealTag(mac: SealMac, key: Uint8Array, stream: number, seq: number, frames: Uint8Array): Uint8Array {
  const nonce = sealNonce(stream, seq);
  if (!createCipheriv || !createHmac) takeCrypto();
  if (mac === 'hmac-sha256') {
    return createHmac!('sha256', key).update(nonce).update(frames).digest().subarray(0, SEAL_MAC_BYTES);
  }
  // Poly1305 through the AEAD: the frames are additional data, nothing is encrypted.
  const cipher = createCipheriv!('chacha20-poly1305', key, nonce, { authTagLength: SEAL_MAC_BYTES });
  cipher.setAAD(frames, { plaintextLength: 0 });
  cipher.final();
  return cipher.getAuthTag();
}
