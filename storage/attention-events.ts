import type { Db } from './db.ts';

export interface Region {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export interface AttentionEventRow {
  readonly sessionId: string;
  readonly startTNs: bigint;
  readonly peakTNs: bigint;
  readonly endTNs: bigint;
  readonly peakScore: number;
  readonly meanScore: number;
  readonly region: Region;
  readonly frames: number;
  readonly model: string;
}

/** Attention episodes; few per minute, so each is written on its own when it ends. */
export class AttentionEventRepository {
  private readonly insert;
  private readonly list;

  constructor(db: Db) {
    this.insert = db.prepare(
      `INSERT INTO attention_events (session_id, start_t_ns, peak_t_ns, end_t_ns, peak_score, mean_score, region,
         frames, model) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.list = db.prepare(
      `SELECT session_id, start_t_ns, peak_t_ns, end_t_ns, peak_score, mean_score, region, frames, model
         FROM attention_events WHERE session_id = ? ORDER BY start_t_ns`,
    );
    this.list.safeIntegers(true);
  }

  add(row: AttentionEventRow): number {
    const r = this.insert.run(
      row.sessionId,
      row.startTNs,
      row.peakTNs,
      row.endTNs,
      row.peakScore,
      row.meanScore,
      JSON.stringify(row.region),
      row.frames,
      row.model,
    );
    return Number(r.lastInsertRowid);
  }

  forSession(sessionId: string): AttentionEventRow[] {
    return (this.list.all(sessionId) as Record<string, unknown>[]).map((r) => ({
      sessionId: r.session_id as string,
      startTNs: r.start_t_ns as bigint,
      peakTNs: r.peak_t_ns as bigint,
      endTNs: r.end_t_ns as bigint,
      peakScore: r.peak_score as number,
      meanScore: r.mean_score as number,
      region: JSON.parse(r.region as string) as Region,
      frames: Number(r.frames),
      model: r.model as string,
    }));
  }
}
