// Guest output to the host's stdout and stderr, written synchronously so that a closed pipe
// or a full disk is known at once and can be answered as Linux would answer the guest (EPIPE
// kills it with SIGPIPE, ENOSPC is returned), instead of piling up in Node's stream buffers.

import { writeSync } from 'node:fs';

/** 0 when all bytes were written, else a negative Linux errno (EPIPE -32, ENOSPC -28, EIO -5). */
export function hostWrite(fd: number, bytes: Uint8Array): number {
  let off = 0;
  while (off < bytes.length) {
    try {
      off += writeSync(fd, bytes, off, bytes.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue; // a non-blocking pipe that is full: wait for the reader
      return code === 'EPIPE' ? -32 : code === 'ENOSPC' ? -28 : -5;
    }
  }
  return 0;
}
