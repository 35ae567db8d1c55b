import type { Db } from './db.ts';

export interface OutboxMessage {
  readonly id: number;
  readonly kind: string;
  readonly recordId: string;
  readonly payload: string;
  readonly attempts: number;
}

/**
 * The queue of what must reach the phone. `enqueue` is meant to be called inside the same `db.transaction()`
 * that writes the record, so a record never exists without its message nor a message without its record.
 */
export class Outbox {
  private readonly insert;
  private readonly selectPending;
  private readonly markSentStmt;
  private readonly bumpAttempts;
  private readonly countPending;

  constructor(db: Db) {
    this.insert = db.prepare(
      'INSERT INTO outbox (kind, record_id, payload, created_ms) VALUES (?, ?, ?, ?) RETURNING id',
    );
    this.selectPending = db.prepare(
      `SELECT id, kind, record_id AS recordId, payload, attempts FROM outbox
       WHERE sent_ms IS NULL AND id > ? ORDER BY id LIMIT ?`,
    );
    this.markSentStmt = db.prepare('UPDATE outbox SET sent_ms = ? WHERE id = ? AND sent_ms IS NULL');
    this.bumpAttempts = db.prepare('UPDATE outbox SET attempts = attempts + 1 WHERE id = ?');
    this.countPending = db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE sent_ms IS NULL');
  }

  enqueue(kind: string, recordId: string, payload: unknown, nowMs = Date.now()): number {
    const row = this.insert.get(kind, recordId, JSON.stringify(payload), nowMs) as { id: number };
    return row.id;
  }

  /** Pending messages in insertion order (which keeps the order per kind), after `afterId`. */
  pending(limit: number, afterId = 0): OutboxMessage[] {
    return this.selectPending.all(afterId, limit) as OutboxMessage[];
  }

  attempted(id: number): void {
    this.bumpAttempts.run(id);
  }

  /** Called on PUBACK only: a message is sent when the broker has it, not when we wrote it to the socket. */
  markSent(id: number, nowMs = Date.now()): boolean {
    return this.markSentStmt.run(nowMs, id).changes === 1;
  }

  pendingCount(): number {
    return (this.countPending.get() as { n: number }).n;
  }
}
