// The channel's shared buffers and ends as both runtime threads know them: apart from the
// transport so that the watchdog thread can be started before the rest of the runtime loads.
import { RECORD_WORDS } from '../shared/runtimeProtocol';

export const RECORD_CAPACITY = 4096;
const JSON_CAPACITY = 1 << 20;
/** Bytes of the watchdog's frames the main thread writes for it at once (see ChildTransport.relayWatchdog). */
export const RELAY_CAPACITY = 1 << 16;
/** Bytes for a file's path in SharedChannel.site (a longer one is not written). */
export const SITE_CAPACITY = 4096;

export interface SharedChannel {
  state: SharedArrayBuffer;
  records: SharedArrayBuffer;
  json: SharedArrayBuffer;
  /** The watchdog's sealed frames, for the main thread to write (see ChildTransport.relayWatchdog). */
  relay: SharedArrayBuffer;
  /** The file of the snippet's clock read the watchdog asked about (PROBE_READ_WANTED): its UTF-8 length (Int32), then the bytes. */
  site: SharedArrayBuffer;
}

export function createSharedChannel(): SharedChannel {
  return {
    state: new SharedArrayBuffer(64),
    records: new SharedArrayBuffer(RECORD_CAPACITY * RECORD_WORDS * 8),
    json: new SharedArrayBuffer(JSON_CAPACITY),
    relay: new SharedArrayBuffer(RELAY_CAPACITY),
    site: new SharedArrayBuffer(SITE_CAPACITY),
  };
}

export interface ChannelEnd {
  fd: number;
  /** fstat's dev and ino of the pipe: a descriptor the program closed and reused is not ours any more. */
  dev: number;
  ino: number;
}
