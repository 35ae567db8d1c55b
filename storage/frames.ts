import { BatchWriter } from './batch-writer.ts';
import type { Db } from './db.ts';

export interface FrameRow {
  readonly sessionId: string;
  readonly stream: 'eye0' | 'eye1' | 'scene';
  readonly index: number;
  readonly tNs: bigint;
  readonly eye0Index?: number | null;
  readonly eye1Index?: number | null;
}

export function frameWriter(db: Db, batchSize?: number): BatchWriter<FrameRow> {
  const insert = db.prepare(
    'INSERT OR REPLACE INTO frames (session_id, stream, idx, t_ns, eye0_idx, eye1_idx) VALUES (?, ?, ?, ?, ?, ?)',
  );
  return new BatchWriter(
    db,
    insert,
    (r) => [r.sessionId, r.stream, r.index, r.tNs, r.eye0Index ?? null, r.eye1Index ?? null],
    batchSize,
  );
}
