import type { Db } from './db.ts';

export type OtaState = 'receiving' | 'installing' | 'installed' | 'refused' | 'dropped';

export interface OtaRow {
  readonly id: string;
  readonly model: string;
  /** The ota-manifest.v1 JSON the flasher sent. */
  readonly manifest: string;
  readonly size: number;
  readonly sha256: string;
  readonly chunkBytes: number;
  readonly chunks: number;
  readonly received: Buffer;
  readonly state: OtaState;
  /** The ota-result.v1 JSON, once installed or refused. */
  readonly result: string | null;
  readonly createdMs: number;
  readonly updatedMs: number;
}

export interface NewOta {
  readonly id: string;
  readonly model: string;
  readonly manifest: string;
  readonly size: number;
  readonly sha256: string;
  readonly chunkBytes: number;
  readonly chunks: number;
}

const COLUMNS = `id, model, manifest, size, sha256, chunk_bytes AS chunkBytes, chunks, received, state, result,
  created_ms AS createdMs, updated_ms AS updatedMs`;

/**
 * Models arriving over the air (migration 011): which chunks of each bundle are held, and how it ended. The
 * chunk map is saved only after the staged part file is fdatasynced, so it never claims more than the disk holds.
 */
export class OtaRepository {
  private readonly insert;
  private readonly byId;
  private readonly byState;
  private readonly saveReceived;
  private readonly setStateStmt;
  private readonly finishStmt;

  constructor(db: Db) {
    this.insert = db.prepare(
      `INSERT INTO ota_transfers (id, model, manifest, size, sha256, chunk_bytes, chunks, received, created_ms, updated_ms)
       VALUES (@id, @model, @manifest, @size, @sha256, @chunkBytes, @chunks, zeroblob(@chunks), @nowMs, @nowMs)`,
    );
    this.byId = db.prepare(`SELECT ${COLUMNS} FROM ota_transfers WHERE id = ?`);
    this.byState = db.prepare(`SELECT ${COLUMNS} FROM ota_transfers WHERE state = ? ORDER BY created_ms, id`);
    this.saveReceived = db.prepare(
      `UPDATE ota_transfers SET received = ?, updated_ms = ? WHERE id = ? AND state = 'receiving'`,
    );
    this.setStateStmt = db.prepare('UPDATE ota_transfers SET state = ?, updated_ms = ? WHERE id = ? AND state = ?');
    this.finishStmt = db.prepare(
      `UPDATE ota_transfers SET state = ?, result = ?, updated_ms = ? WHERE id = ? AND state IN ('receiving', 'installing')`,
    );
  }

  create(ota: NewOta, nowMs = Date.now()): OtaRow {
    this.insert.run({ ...ota, nowMs });
    return this.get(ota.id) as OtaRow;
  }

  get(id: string): OtaRow | undefined {
    return this.byId.get(id) as OtaRow | undefined;
  }

  inState(state: OtaState): OtaRow[] {
    return this.byState.all(state) as OtaRow[];
  }

  /** Which chunks are held (one byte each); only while receiving. */
  recordReceived(id: string, received: Uint8Array, nowMs = Date.now()): boolean {
    return this.saveReceived.run(Buffer.from(received), nowMs, id).changes === 1;
  }

  /** Moves `from` → `to`; false when the row was not in `from`. */
  transition(id: string, from: OtaState, to: OtaState, nowMs = Date.now()): boolean {
    return this.setStateStmt.run(to, nowMs, id, from).changes === 1;
  }

  /** Installed or refused, with the result the flasher is told (again, whenever it asks). */
  finish(id: string, state: 'installed' | 'refused', result: string, nowMs = Date.now()): boolean {
    return this.finishStmt.run(state, result, nowMs, id).changes === 1;
  }
}
