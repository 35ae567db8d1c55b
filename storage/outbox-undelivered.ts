import type { Db } from './db.ts';

/** An outbox row as the phone sync publishes it: pending (never acknowledged by a broker) or undelivered. */
export interface DrainRow {
  readonly id: number;
  readonly kind: string;
  readonly recordId: string;
  readonly payload: string;
  readonly createdMs: number;
}

/**
 * Outbox rows a broker acknowledged (PUBACK) that the phone has not confirmed yet. A PUBACK only says the
 * broker holds the message; a broker restart or an overflowing subscriber queue can still lose it, so these rows
 * stay eligible for sending until the phone's receipt removes them.
 */
export class UndeliveredOutbox {
  private readonly insert;
  private readonly remove;
  private readonly batch;
  private readonly countAll;
  private readonly first;

  constructor(db: Db) {
    this.insert = db.prepare('INSERT OR IGNORE INTO outbox_undelivered (outbox_id, sent_ms) VALUES (?, ?)');
    this.remove = db.prepare('DELETE FROM outbox_undelivered WHERE outbox_id = ?');
    // Two id-ordered branches merged: pending rows by a rowid range from the cursor (rows after the cursor are
    // mostly the new, pending ones), undelivered rows through this table's key (CROSS JOIN keeps SQLite from
    // scanning the whole outbox for them). An OR over the outbox would visit every row ever sent.
    this.batch = db.prepare(
      `SELECT id, kind, record_id AS recordId, payload, created_ms AS createdMs FROM (
         SELECT o.id, o.kind, o.record_id, o.payload, o.created_ms FROM outbox o NOT INDEXED
         WHERE o.id > @after AND o.sent_ms IS NULL
         UNION ALL
         SELECT u.outbox_id, o.kind, o.record_id, o.payload, o.created_ms FROM outbox_undelivered u
         CROSS JOIN outbox o ON o.id = u.outbox_id WHERE u.outbox_id > @after
       ) ORDER BY id LIMIT @limit`,
    );
    this.first = db.prepare(
      `SELECT MIN(id) AS id FROM (SELECT MIN(id) AS id FROM outbox WHERE sent_ms IS NULL
       UNION ALL SELECT MIN(outbox_id) FROM outbox_undelivered)`,
    );
    this.countAll = db.prepare('SELECT COUNT(*) AS n FROM outbox_undelivered');
  }

  /** Call in the same transaction as `Outbox.markSent`, and only when that changed the row. */
  add(outboxId: number, sentMs: number): void {
    this.insert.run(outboxId, sentMs);
  }

  /** The phone's receipt: returns whether the row was awaiting one. */
  confirm(outboxId: number): boolean {
    return this.remove.run(outboxId).changes === 1;
  }

  /** Rows to publish after `afterId`, in id order (which keeps the order per kind): pending and undelivered. */
  next(afterId: number, limit: number): DrainRow[] {
    return this.batch.all({ after: afterId, limit }) as DrainRow[];
  }

  /** The lowest id still to publish, so a replay starts there rather than scanning the outbox's sent history. */
  firstEligible(): number | undefined {
    return (this.first.get() as { id: number | null }).id ?? undefined;
  }

  count(): number {
    return (this.countAll.get() as { n: number }).n;
  }
}
