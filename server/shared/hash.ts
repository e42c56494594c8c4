import { createHash } from 'node:crypto';

/** SHA-256 as lowercase hex: for stored token digests, request fingerprints and the audit chain. */
export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
