import { randomUUID } from 'node:crypto';
import type { Db } from './db.ts';

export type TransferState = 'pending' | 'sending' | 'synced' | 'failed';

export interface TransferRow {
  readonly id: string;
  readonly kind: string;
  readonly recordId: string;
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  readonly chunkBytes: number | null;
  readonly nextChunk: number;
  readonly ackedChunks: number;
  readonly state: TransferState;
  readonly error: string | null;
  readonly createdMs: number;
  readonly updatedMs: number;
  readonly syncedMs: number | null;
}

export interface NewTransfer {
  /** Defaults to a random UUID. It becomes an MQTT topic level, so only letters, digits, `_` and `-`. */
  readonly id?: string;
  readonly kind: string;
  readonly recordId: string;
  /** A complete, fsynced file: its size and sha256 are what the phone must end up holding. */
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

const TOPIC_LEVEL = /^[A-Za-z0-9_-]{1,64}$/;
const COLUMNS = `id, kind, record_id AS recordId, path, size, sha256, chunk_bytes AS chunkBytes,
  next_chunk AS nextChunk, acked_chunks AS ackedChunks, state, error, created_ms AS createdMs,
  updated_ms AS updatedMs, synced_ms AS syncedMs`;

/**
 * Files to move to the phone (snippets first of all). `register` is meant to run in the same transaction as the
 * record the file belongs to; the phone sync then sends it in chunks and marks it `synced` only once the phone has
 * confirmed the whole file's sha256, which is what makes the file evictable.
 */
export class TransferRepository {
  private readonly insert;
  private readonly byId;
  private readonly oldestOpen;
  private readonly beginStmt;
  private readonly progress;
  private readonly synced;
  private readonly failed;
  private readonly countByState;

  constructor(private readonly db: Db) {
    this.insert = db.prepare(
      `INSERT INTO transfers (id, kind, record_id, path, size, sha256, created_ms, updated_ms)
       VALUES (@id, @kind, @recordId, @path, @size, @sha256, @nowMs, @nowMs)`,
    );
    this.byId = db.prepare(`SELECT ${COLUMNS} FROM transfers WHERE id = ?`);
    this.oldestOpen = db.prepare(
      `SELECT ${COLUMNS} FROM transfers WHERE state IN ('pending', 'sending') ORDER BY created_ms, id LIMIT 1`,
    );
    this.beginStmt = db.prepare(
      `UPDATE transfers SET state = 'sending', chunk_bytes = COALESCE(chunk_bytes, ?), updated_ms = ?
       WHERE id = ? AND state IN ('pending', 'sending')`,
    );
    this.progress = db.prepare(
      `UPDATE transfers SET acked_chunks = ?, next_chunk = MAX(next_chunk, ?), updated_ms = ?
       WHERE id = ? AND state = 'sending'`,
    );
    this.synced = db.prepare(
      `UPDATE transfers SET state = 'synced', acked_chunks = ?, synced_ms = ?, updated_ms = ?
       WHERE id = ? AND state = 'sending'`,
    );
    this.failed = db.prepare(
      `UPDATE transfers SET state = 'failed', error = ?, updated_ms = ? WHERE id = ? AND state != 'synced'`,
    );
    this.countByState = db.prepare('SELECT state, COUNT(*) AS n FROM transfers GROUP BY state');
  }

  register(transfer: NewTransfer, nowMs = Date.now()): string {
    const id = transfer.id ?? randomUUID();
    if (!TOPIC_LEVEL.test(id)) throw new Error(`transfer id ${JSON.stringify(id)} is not a valid topic level`);
    if (!/^[0-9a-f]{64}$/.test(transfer.sha256)) throw new Error('sha256 must be 64 lowercase hex digits');
    this.insert.run({ ...transfer, id, nowMs });
    return id;
  }

  get(id: string): TransferRow | undefined {
    return this.byId.get(id) as TransferRow | undefined;
  }

  /** The oldest transfer not yet synced or failed: transfers go out one at a time, in the order registered. */
  nextOpen(): TransferRow | undefined {
    return this.oldestOpen.get() as TransferRow | undefined;
  }

  /** Fixes the chunk size on first start (a resume keeps the one it started with). Returns the row as stored. */
  begin(id: string, chunkBytes: number, nowMs = Date.now()): TransferRow | undefined {
    this.beginStmt.run(chunkBytes, nowMs, id);
    return this.get(id);
  }

  /** The phone holds chunks [0, ackedChunks); `nextChunk` is how far sending has got. */
  recordProgress(id: string, ackedChunks: number, nextChunk: number, nowMs = Date.now()): boolean {
    return this.progress.run(ackedChunks, nextChunk, nowMs, id).changes === 1;
  }

  markSynced(id: string, chunks: number, nowMs = Date.now()): boolean {
    return this.synced.run(chunks, nowMs, nowMs, id).changes === 1;
  }

  markFailed(id: string, error: string, nowMs = Date.now()): boolean {
    return this.failed.run(error, nowMs, id).changes === 1;
  }

  /**
   * Points a transfer at a replacement file (a privacy-filtered copy) before any of it has been sent: the phone
   * then receives, and confirms the sha256 of, the replacement. Refused once a chunk is out.
   */
  replaceFile(id: string, file: { path: string; size: number; sha256: string }, nowMs = Date.now()): boolean {
    if (!/^[0-9a-f]{64}$/.test(file.sha256)) throw new Error('sha256 must be 64 lowercase hex digits');
    return (
      this.db
        .prepare(
          `UPDATE transfers SET path = ?, size = ?, sha256 = ?, updated_ms = ?
           WHERE id = ? AND state IN ('pending', 'sending') AND next_chunk = 0 AND acked_chunks = 0`,
        )
        .run(file.path, file.size, file.sha256, nowMs, id).changes === 1
    );
  }

  /** The newest transfer of this record that has not failed (a file queued twice is sent once). */
  liveFor(kind: string, recordId: string): TransferRow | undefined {
    return this.db
      .prepare(
        `SELECT ${COLUMNS} FROM transfers WHERE kind = ? AND record_id = ? AND state != 'failed'
         ORDER BY created_ms DESC LIMIT 1`,
      )
      .get(kind, recordId) as TransferRow | undefined;
  }

  counts(): Record<TransferState, number> {
    const counts: Record<TransferState, number> = { pending: 0, sending: 0, synced: 0, failed: 0 };
    for (const row of this.countByState.all() as { state: TransferState; n: number }[]) counts[row.state] = row.n;
    return counts;
  }
}
