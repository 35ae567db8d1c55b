import { BatchWriter } from './batch-writer.ts';
import type { Db } from './db.ts';

export type TelemetryKind = 'imu' | 'button' | 'battery' | 'temperature';

export interface TelemetryRow {
  readonly sessionId: string;
  readonly tNs: bigint;
  readonly kind: TelemetryKind;
  readonly seq: number;
  readonly payload: Readonly<Record<string, number | string | boolean>>;
}

export function telemetryWriter(db: Db, batchSize = 256): BatchWriter<TelemetryRow> {
  const insert = db.prepare('INSERT INTO telemetry (session_id, t_ns, kind, seq, payload) VALUES (?, ?, ?, ?, ?)');
  return new BatchWriter(db, insert, (r) => [r.sessionId, r.tNs, r.kind, r.seq, JSON.stringify(r.payload)], batchSize);
}
