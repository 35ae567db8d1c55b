import { join } from 'node:path';
import type { Db } from './db.ts';
import { Outbox } from './outbox.ts';
import { TransferRepository } from './transfers.ts';

export interface SnippetRow {
  readonly id: string;
  readonly sessionId: string;
  readonly startTNs: bigint;
  readonly endTNs: bigint;
  readonly startWallMs: number;
  readonly frames: number;
  readonly width: number;
  readonly height: number;
  readonly path: string;
  readonly thumbPath: string;
  readonly sidecarPath: string;
  readonly bytes: number;
  /** Size of the video file alone (what the phone receives); `bytes` also counts thumbnail and sidecar. */
  readonly videoBytes: number;
  readonly sha256: string;
  readonly score: number;
  readonly region: { x: number; y: number; w: number; h: number } | null;
  readonly trigger: 'attention' | 'emotion' | 'manual';
  readonly models: readonly string[];
}

export interface StoredSnippet {
  readonly id: string;
  readonly path: string;
  readonly thumbPath: string;
  readonly sidecarPath: string;
  readonly bytes: number;
  readonly syncState: 'pending' | 'synced';
  readonly createdMs: number;
}

/** Snippet rows and their announcement to the phone, always together. */
export class SnippetRepository {
  private readonly outbox: Outbox;
  private readonly insertRow;
  private readonly insertWithOutbox: (row: SnippetRow, nowMs: number) => void;

  private readonly transfers: TransferRepository;

  /** `dataDir` resolves the rows' relative paths, for the phone transfer that each snippet registers. */
  constructor(
    private readonly db: Db,
    private readonly dataDir: string,
  ) {
    this.outbox = new Outbox(db);
    this.transfers = new TransferRepository(db);
    this.insertRow = db.prepare(
      `INSERT INTO snippets (id, session_id, start_t_ns, end_t_ns, start_wall_ms, frames, width, height, path,
         thumb_path, sidecar_path, bytes, sha256, score, region, trigger, models, created_ms)
       VALUES (@id, @sessionId, @startTNs, @endTNs, @startWallMs, @frames, @width, @height, @path, @thumbPath,
         @sidecarPath, @bytes, @sha256, @score, @region, @trigger, @models, @createdMs)`,
    );
    this.insertWithOutbox = db.transaction((row: SnippetRow, nowMs: number) => {
      const { videoBytes, ...columns } = row;
      this.insertRow.run({
        ...columns,
        region: row.region ? JSON.stringify(row.region) : null,
        models: JSON.stringify(row.models),
        createdMs: nowMs,
      });
      this.outbox.enqueue('snippet', row.id, snippetEvent(row), nowMs);
      // The video itself goes to the phone in chunks; once the phone confirms it, the snippet becomes evictable.
      this.transfers.register(
        { kind: 'snippet', recordId: row.id, path: join(this.dataDir, row.path), size: videoBytes, sha256: row.sha256 },
        nowMs,
      );
    });
  }

  /** Call only once every file of the snippet is complete and fsynced: the row, its event and its transfer. */
  add(row: SnippetRow, nowMs = Date.now()): void {
    this.insertWithOutbox(row, nowMs);
  }

  markSynced(id: string, nowMs = Date.now()): boolean {
    return (
      this.db
        .prepare("UPDATE snippets SET sync_state = 'synced', synced_ms = ? WHERE id = ? AND sync_state = 'pending'")
        .run(nowMs, id).changes === 1
    );
  }

  /** Oldest first: the order retention evicts in. */
  listByAge(): StoredSnippet[] {
    return this.db
      .prepare(
        `SELECT id, path, thumb_path AS thumbPath, sidecar_path AS sidecarPath, bytes, sync_state AS syncState,
                created_ms AS createdMs
         FROM snippets ORDER BY created_ms, id`,
      )
      .all() as StoredSnippet[];
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM snippets WHERE id = ?').run(id);
  }

  totalBytes(): { all: number; unsynced: number } {
    const r = this.db
      .prepare(
        `SELECT COALESCE(SUM(bytes), 0) AS a, COALESCE(SUM(CASE WHEN sync_state = 'pending' THEN bytes END), 0) AS u
         FROM snippets`,
      )
      .get() as { a: number; u: number };
    return { all: r.a, unsynced: r.u };
  }
}

/** The `events/snippet` payload (schema snippet.v1): what the phone needs to show it and fetch its file. */
function snippetEvent(row: SnippetRow) {
  return {
    schema: 'snippet.v1',
    id: row.id,
    sessionId: row.sessionId,
    startWallMs: row.startWallMs,
    durationMs: Number(row.endTNs - row.startTNs) / 1e6,
    frames: row.frames,
    width: row.width,
    height: row.height,
    bytes: row.bytes,
    sha256: row.sha256,
    score: row.score,
    region: row.region,
    trigger: row.trigger,
    models: row.models,
  };
}
