import type { Db } from './db.ts';

export interface SessionRow {
  readonly id: string;
  readonly device: string;
  readonly source: string;
  readonly startedWallMs: number;
  readonly startedTNs: bigint;
}

export class SessionRepository {
  private readonly insert;
  private readonly finish;
  private readonly interruptRunning;

  constructor(private readonly db: Db) {
    this.insert = db.prepare(
      `INSERT INTO sessions (id, device, source, started_wall_ms, started_t_ns)
       VALUES (@id, @device, @source, @startedWallMs, @startedTNs)`,
    );
    this.finish = db.prepare(`UPDATE sessions SET ended_wall_ms = ?, state = ? WHERE id = ?`);
    this.interruptRunning = db.prepare(`UPDATE sessions SET state = 'interrupted' WHERE state = 'running'`);
  }

  /** A session left 'running' by a process that died is marked 'interrupted' at the next start. */
  recoverInterrupted(): number {
    return this.interruptRunning.run().changes;
  }

  start(row: SessionRow): void {
    this.insert.run(row);
  }

  end(id: string, state: 'completed' | 'interrupted', wallMs = Date.now()): void {
    this.finish.run(wallMs, state, id);
  }

  get(id: string): { id: string; state: string; ended_wall_ms: number | null } | undefined {
    return this.db.prepare('SELECT id, state, ended_wall_ms FROM sessions WHERE id = ?').get(id) as
      | { id: string; state: string; ended_wall_ms: number | null }
      | undefined;
  }
}
