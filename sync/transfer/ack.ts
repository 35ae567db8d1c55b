import type { TransferRow } from '../../storage/transfers.ts';
import { snippetAckV1 } from '../messages.ts';

export type AckDecision =
  | { readonly kind: 'ignore'; readonly reason: string }
  | { readonly kind: 'synced'; readonly chunks: number }
  | { readonly kind: 'progress'; readonly next: number; readonly missing: readonly number[] };

export function chunkCount(size: number, chunkBytes: number): number {
  return Math.ceil(size / chunkBytes);
}

/**
 * What a phone's acknowledgement means for a transfer, decided before anything is changed: an ack that is
 * malformed, names an unknown or finished transfer, points past the end, or reports a different whole-file sha256
 * is ignored (the caller logs the reason) and the stored state stays as it was.
 */
export function judgeAck(row: TransferRow | undefined, payload: Buffer): AckDecision {
  if (row === undefined) return { kind: 'ignore', reason: 'unknown transfer' };
  if (row.state !== 'sending' || row.chunkBytes === null) return { kind: 'ignore', reason: `transfer is ${row.state}` };
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return { kind: 'ignore', reason: 'ack is not JSON' };
  }
  const parsed = snippetAckV1.safeParse(json);
  if (!parsed.success) return { kind: 'ignore', reason: `ack invalid: ${parsed.error.issues[0]?.message ?? ''}` };
  const ack = parsed.data;
  const chunks = chunkCount(row.size, row.chunkBytes);
  if (ack.next > chunks) return { kind: 'ignore', reason: `next ${ack.next} is past the last chunk (${chunks})` };
  if (ack.missing.some((i) => i < ack.next || i >= chunks)) {
    return { kind: 'ignore', reason: 'missing list names chunks outside [next, chunks)' };
  }
  if (ack.sha256 === undefined) return { kind: 'progress', next: ack.next, missing: ack.missing };
  if (ack.next !== chunks) return { kind: 'ignore', reason: 'sha256 sent before every chunk was acknowledged' };
  if (ack.sha256 !== row.sha256) return { kind: 'ignore', reason: 'phone reports a different sha256 for the file' };
  return { kind: 'synced', chunks };
}
