import { BatchWriter } from './batch-writer.ts';
import type { Db } from './db.ts';

export interface FixationRow {
  readonly sessionId: string;
  readonly startTNs: bigint;
  readonly endTNs: bigint;
  /** Centroid, scene pixels. */
  readonly x: number;
  readonly y: number;
  readonly dispersionDeg: number;
  readonly samples: number;
  readonly confidence: number;
}

export interface BlinkRow {
  readonly sessionId: string;
  readonly startTNs: bigint;
  readonly endTNs: bigint;
  readonly eyes: 'both' | 'eye0' | 'eye1';
}

export function fixationWriter(db: Db, batchSize = 64): BatchWriter<FixationRow> {
  const insert = db.prepare(
    `INSERT INTO fixations (session_id, start_t_ns, end_t_ns, x, y, dispersion_deg, samples, confidence)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  return new BatchWriter(
    db,
    insert,
    (r) => [r.sessionId, r.startTNs, r.endTNs, r.x, r.y, r.dispersionDeg, r.samples, r.confidence],
    batchSize,
  );
}

export function blinkWriter(db: Db, batchSize = 16): BatchWriter<BlinkRow> {
  const insert = db.prepare('INSERT INTO blinks (session_id, start_t_ns, end_t_ns, eyes) VALUES (?, ?, ?, ?)');
  return new BatchWriter(db, insert, (r) => [r.sessionId, r.startTNs, r.endTNs, r.eyes], batchSize);
}
