// The tag of a FRAME_SEALED frame (see shared/runtimeProtocol.ts), computed alike by the Node runtime
// that seals and the engine that checks (the engine imports it from here, as it does the transform).
import * as crypto from 'node:crypto';

import { SEAL_MAC_BYTES, sealNonce, type SealMac } from '../shared/runtimeProtocol';

// Taken at start-up: what the program does to the crypto module does not reach the runtime.
const createCipheriv = crypto.createCipheriv;
const createHmac = crypto.createHmac;

/** SEAL_MAC_BYTES that only a holder of `key` can compute for these frames at this place in the stream. */
export function sealTag(mac: SealMac, key: Uint8Array, stream: number, seq: number, frames: Uint8Array): Uint8Array {
  const nonce = sealNonce(stream, seq);
  if (mac === 'hmac-sha256') {
    return createHmac('sha256', key).update(nonce).update(frames).digest().subarray(0, SEAL_MAC_BYTES);
  }
  // Poly1305 through the AEAD: the frames are additional data, nothing is encrypted.
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: SEAL_MAC_BYTES });
  cipher.setAAD(frames, { plaintextLength: 0 });
  cipher.final();
  return cipher.getAuthTag();
}
