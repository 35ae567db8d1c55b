import type { Logger } from 'pino';
import type { Db } from '../storage/db.ts';
import { Outbox } from '../storage/outbox.ts';
import { type DrainRow, UndeliveredOutbox } from '../storage/outbox-undelivered.ts';
import type { SyncConfig } from './config.ts';
import type { Link } from './link.ts';
import { receiptsV1 } from './messages.ts';
import { TokenBucket } from './rate-limit.ts';
import type { InboundMessage } from './router.ts';
import { isTopicLevel, type Topics } from './topics.ts';
import { Wakeup } from './wakeup.ts';

const FLUSH_MS = 5;

export interface OutboxDrainOptions {
  readonly db: Db;
  readonly link: Link;
  readonly topics: Topics;
  readonly config: SyncConfig['outbox'];
  readonly logger: Logger;
  /** Connected, and a phone is listening. */
  readonly canSend: () => boolean;
}

export interface DrainStats {
  readonly published: number;
  /** Marked sent on the broker's PUBACK. */
  readonly acknowledged: number;
  /** Confirmed by the phone. */
  readonly receipted: number;
  readonly failed: number;
  readonly expired: number;
  readonly awaitingReceipt: number;
}

/**
 * Publishes the outbox as `events/<kind>` at QoS 1 and keeps two promises:
 * - a row is marked sent only on PUBACK (the publish callback), in batched transactions;
 * - a row counts as delivered only on the phone's receipt. Until then it stays in `outbox_undelivered` and is sent
 *   again when the phone reappears or the receipt is overdue, because brokers lose acknowledged messages (restart
 *   without persistence, a full subscriber queue).
 * Rows go out in id order, which keeps the order per kind; at most `window` await a receipt (end-to-end flow
 * control, so the broker's queue for the phone stays short) and at most `maxPerSecond` leave per second.
 */
export class OutboxDrain {
  private readonly outbox: Outbox;
  private readonly undelivered: UndeliveredOutbox;
  private readonly bucket: TokenBucket;
  private readonly wakeup = new Wakeup();
  private readonly markAcknowledged: (ids: readonly number[], published: readonly number[]) => number;
  private readonly confirm: (seqs: readonly number[]) => void;
  private readonly selectMaxId;
  private cursor = 0;
  private buffer: DrainRow[] = [];
  private bufferAt = 0;
  /** Published and not yet receipted: id → when (ms). Insertion order is age order. */
  private readonly awaiting = new Map<number, number>();
  /** Published and not yet PUBACKed. */
  private readonly unacked = new Set<number>();
  /** Receipted by the phone before the broker's PUBACK reached us: no need to await delivery. */
  private readonly receiptedEarly = new Set<number>();
  /** PUBACKed, not yet recorded (the next flush writes them). */
  private pubacks = new Set<number>();
  private publishedIds: number[] = [];
  private flushScheduled = false;
  private readonly badKinds = new Set<number>();
  private running = false;
  private closed = false;
  private loop: Promise<void> | undefined;
  private readonly counters = { published: 0, acknowledged: 0, receipted: 0, failed: 0, expired: 0 };

  constructor(private readonly o: OutboxDrainOptions) {
    this.outbox = new Outbox(o.db);
    this.undelivered = new UndeliveredOutbox(o.db);
    this.selectMaxId = o.db.prepare('SELECT MAX(id) AS id FROM outbox');
    this.bucket = new TokenBucket(o.config.maxPerSecond, Math.max(1, o.config.maxPerSecond / 10));
    this.markAcknowledged = o.db.transaction((ids: readonly number[], published: readonly number[]) => {
      const nowMs = Date.now();
      for (const id of published) this.outbox.attempted(id);
      let marked = 0;
      for (const id of ids) {
        const receipted = this.receiptedEarly.delete(id);
        const sent = this.outbox.markSent(id, nowMs);
        if (sent) marked++;
        // A replayed row was sent before and may wait in outbox_undelivered: its early receipt settles it now.
        if (receipted) this.undelivered.confirm(id);
        else if (sent) this.undelivered.add(id, nowMs);
      }
      return marked;
    });
    this.confirm = o.db.transaction((seqs: readonly number[]) => {
      for (const seq of seqs) this.undelivered.confirm(seq);
    });
  }

  start(): void {
    this.running = true;
    this.replay();
    this.loop = this.run();
  }

  /** Stops publishing; PUBACKs that still arrive (while the link closes) are recorded until `close()`. */
  async stop(): Promise<void> {
    this.running = false;
    this.wakeup.wake();
    await this.loop;
  }

  /** Records the last PUBACKs; call after the link has closed. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  wake(): void {
    this.wakeup.wake();
  }

  /** The phone (re)appeared: whatever it has not receipted goes out again, oldest first. */
  replay(): void {
    this.awaiting.clear();
    this.buffer = [];
    const first = this.undelivered.firstEligible();
    this.cursor = first === undefined ? this.maxId() : first - 1;
    this.wakeup.wake();
  }

  /** phone/receipts: the phone stored these records (by outbox id). */
  handleReceipts(message: InboundMessage): void {
    let parsed: ReturnType<typeof receiptsV1.safeParse>;
    try {
      parsed = receiptsV1.safeParse(JSON.parse(message.payload.toString('utf8')));
    } catch {
      this.o.logger.warn('receipts are not JSON: ignored');
      return;
    }
    if (!parsed.success) this.o.logger.warn({ issue: parsed.error.issues[0]?.message }, 'receipts invalid: ignored');
    else this.receipts(parsed.data.seqs);
  }

  private receipts(seqs: readonly number[]): void {
    if (this.closed) return;
    const settled: number[] = [];
    for (const seq of seqs) {
      this.awaiting.delete(seq);
      if (this.unacked.has(seq) || this.pubacks.has(seq)) this.receiptedEarly.add(seq);
      else settled.push(seq);
    }
    this.confirm(settled);
    this.counters.receipted += seqs.length;
    this.wakeup.wake();
  }

  stats(): DrainStats {
    return { ...this.counters, awaitingReceipt: this.awaiting.size };
  }

  private async run(): Promise<void> {
    const { config, link } = this.o;
    while (this.running) {
      if (!this.o.canSend()) {
        await this.wakeup.wait(config.pollMs);
        continue;
      }
      this.expireOverdue();
      if (this.awaiting.size >= config.window || this.unacked.size >= link.receiveMaximum) {
        await this.wakeup.wait(config.pollMs);
        continue;
      }
      const row = this.nextRow();
      if (row === undefined) {
        await this.wakeup.wait(config.pollMs);
        continue;
      }
      this.publish(row);
      const waitMs = this.bucket.take(1);
      if (waitMs >= 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }

  private nextRow(): DrainRow | undefined {
    for (;;) {
      if (this.bufferAt >= this.buffer.length) {
        this.buffer = this.undelivered.next(this.cursor, this.o.config.batch);
        this.bufferAt = 0;
        if (this.buffer.length === 0) return undefined;
      }
      const row = this.buffer[this.bufferAt++] as DrainRow;
      this.cursor = row.id;
      if (this.awaiting.has(row.id)) continue;
      if (!isTopicLevel(row.kind)) {
        if (!this.badKinds.has(row.id)) {
          this.o.logger.error({ id: row.id, kind: row.kind }, 'outbox kind is not a topic level: not sent');
          this.badKinds.add(row.id);
        }
        continue;
      }
      return row;
    }
  }

  private publish(row: DrainRow): void {
    // The outbox payload is JSON text already (Outbox.enqueue stringifies), so it is spliced in, not re-parsed.
    const payload = `{"v":1,"seq":${row.id},"kind":${JSON.stringify(row.kind)},"recordId":${JSON.stringify(row.recordId)},"createdMs":${row.createdMs},"data":${row.payload}}`;
    this.awaiting.set(row.id, Date.now());
    this.unacked.add(row.id);
    this.publishedIds.push(row.id);
    this.counters.published++;
    this.o.link
      .publish(this.o.topics.event(row.kind), payload, {
        qos: 1,
        userProperties: { recordId: row.recordId, seq: String(row.id) },
      })
      .then(
        () => this.onPuback(row.id),
        (error: Error) => this.onFailed(row.id, error),
      );
  }

  private onPuback(id: number): void {
    if (this.closed) return;
    this.unacked.delete(id);
    this.pubacks.add(id);
    this.wakeup.wake(); // a slot under the broker's Receive Maximum is free now; the DB write can wait
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // A few ms of PUBACKs per transaction: one WAL commit for hundreds of rows instead of one per row.
      setTimeout(() => this.flush(), FLUSH_MS);
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pubacks.size === 0 && this.publishedIds.length === 0) return;
    const ids = [...this.pubacks];
    const published = this.publishedIds;
    this.pubacks = new Set();
    this.publishedIds = [];
    this.counters.acknowledged += this.markAcknowledged(ids, published);
    this.wakeup.wake();
  }

  /** A publish the client gave up on (link closed for good, or refused by an MQTT 5 broker): send it again. */
  private onFailed(id: number, error: Error): void {
    if (this.closed) return;
    this.unacked.delete(id);
    this.awaiting.delete(id);
    this.receiptedEarly.delete(id);
    this.counters.failed++;
    this.rewind(id);
    this.o.logger.debug({ id, err: error.message }, 'publish failed; will send again');
  }

  /** Receipts overdue: the message was lost after the broker acknowledged it, so it goes out again. */
  private expireOverdue(): void {
    const deadline = Date.now() - this.o.config.receiptTimeoutMs;
    for (const [id, atMs] of this.awaiting) {
      if (atMs > deadline) break;
      this.awaiting.delete(id);
      this.counters.expired++;
      this.rewind(id);
    }
  }

  private rewind(id: number): void {
    if (id - 1 < this.cursor) {
      this.cursor = id - 1;
      this.buffer = [];
      this.bufferAt = 0;
    }
  }

  private maxId(): number {
    return (this.selectMaxId.get() as { id: number | null }).id ?? 0;
  }
}
