import { BatchWriter } from './batch-writer.ts';
import type { Db } from './db.ts';

export interface GazeSampleRow {
  readonly sessionId: string;
  readonly tNs: bigint;
  readonly eye: 'eye0' | 'eye1' | 'binocular';
  readonly x: number;
  readonly y: number;
  readonly confidence: number;
  readonly pupilDiameterPx?: number | null;
}

export function gazeSampleWriter(db: Db, batchSize?: number): BatchWriter<GazeSampleRow> {
  const insert = db.prepare(
    'INSERT INTO gaze_samples (session_id, t_ns, eye, x, y, confidence, pupil_diameter_px) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  return new BatchWriter(
    db,
    insert,
    (r) => [r.sessionId, r.tNs, r.eye, r.x, r.y, r.confidence, r.pupilDiameterPx ?? null],
    batchSize,
  );
}
