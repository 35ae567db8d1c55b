import type { TransferRow } from '../../storage/transfers.ts';
import { snippetAckV1 } from '../messages.ts';

export type AckDecision =
  | { readonly kind: 'ignore'; readonly reason: string }
  | { readonly kind: 'synced'; readonly chunks: number }
  | { readonly kind: 'progress'; readonly next: number; readonly missing: readonly number[] };

export function chunkCount(size: number, chunkBytes: number): number {
  return Math.ceil(size / chunkBytes);
}

/** What an ack is judged against: the transfer as the sender cut it, or why it takes no acks. */
export type AckTarget = { readonly chunks: number; readonly sha256: string } | { readonly closed: string };

/**
 * What a receiver's acknowledgement means for a transfer, decided before anything is changed: an ack that is
 * malformed, names an unknown or finished transfer, points past the end, or reports a different whole-file sha256
 * is ignored (the caller logs the reason) and the sender's state stays as it was. Both directions use it.
 */
export function judgeAck(target: AckTarget | undefined, payload: Buffer): AckDecision {
  if (target === undefined) return { kind: 'ignore', reason: 'unknown transfer' };
  if ('closed' in target) return { kind: 'ignore', reason: target.closed };
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return { kind: 'ignore', reason: 'ack is not JSON' };
  }
  const parsed = snippetAckV1.safeParse(json);
  if (!parsed.success) return { kind: 'ignore', reason: `ack invalid: ${parsed.error.issues[0]?.message ?? ''}` };
  const ack = parsed.data;
  const { chunks } = target;
  if (ack.next > chunks) return { kind: 'ignore', reason: `next ${ack.next} is past the last chunk (${chunks})` };
  if (ack.missing.some((i) => i < ack.next || i >= chunks)) {
    return { kind: 'ignore', reason: 'missing list names chunks outside [next, chunks)' };
  }
  if (ack.sha256 === undefined) return { kind: 'progress', next: ack.next, missing: ack.missing };
  if (ack.next !== chunks) return { kind: 'ignore', reason: 'sha256 sent before every chunk was acknowledged' };
  if (ack.sha256 !== target.sha256)
    return { kind: 'ignore', reason: 'receiver reports a different sha256 for the file' };
  return { kind: 'synced', chunks };
}

/** A stored snippet transfer as an ack target: only one being sent takes acks. */
export function ackTargetOf(row: TransferRow | undefined): AckTarget | undefined {
  if (row === undefined) return undefined;
  if (row.state !== 'sending' || row.chunkBytes === null) return { closed: `transfer is ${row.state}` };
  return { chunks: chunkCount(row.size, row.chunkBytes), sha256: row.sha256 };
}
