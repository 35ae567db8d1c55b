import { type FileHandle, open } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import type { Db } from '../../storage/db.ts';
import { TransferRepository, type TransferRow } from '../../storage/transfers.ts';
import type { SyncConfig } from '../config.ts';
import type { Link } from '../link.ts';
import type { ManifestV1 } from '../messages.ts';
import { TokenBucket } from '../rate-limit.ts';
import type { InboundMessage } from '../router.ts';
import type { Topics } from '../topics.ts';
import { Wakeup } from '../wakeup.ts';
import { chunkCount, judgeAck } from './ack.ts';
import { fileDigest } from './file-digest.ts';
import { CHUNK_HEADER_BYTES, sealChunk } from './framing.ts';

export interface TransferSenderOptions {
  readonly db: Db;
  readonly link: Link;
  readonly topics: Topics;
  readonly chunkBytes: number;
  readonly config: SyncConfig['transfer'];
  readonly pollMs: number;
  readonly logger: Logger;
  /** Connected, and a phone is listening. */
  readonly canSend: () => boolean;
  readonly onSynced?: TransferSyncedHook;
  /** Runs before a transfer's first chunk; may replace its file (face blurring writes a blurred copy). */
  readonly prepareFile?: PrepareFileHook;
}

/**
 * Given a transfer about to start from chunk 0, returns a replacement file to send instead, or undefined to send
 * the registered one. A hook that throws fails the transfer: a snippet that could not be filtered is not sent.
 */
export type PrepareFileHook = (transfer: {
  readonly kind: string;
  readonly recordId: string;
  readonly path: string;
}) => Promise<{ readonly path: string; readonly size: number; readonly sha256: string } | undefined>;

/**
 * Runs inside the transaction that marks a transfer synced, so whatever it records (a snippet's own sync state,
 * which lets retention evict it) commits with it or not at all: synchronous database writes only.
 */
export type TransferSyncedHook = (transfer: {
  readonly transferId: string;
  readonly kind: string;
  readonly recordId: string;
}) => void;

export interface TransferStats {
  readonly chunksSent: number;
  readonly chunksResent: number;
  readonly bytesSent: number;
  readonly synced: number;
  readonly failed: number;
  readonly timeouts: number;
  readonly active?: { readonly id: string; readonly acked: number; readonly chunks: number };
}

interface Active {
  readonly row: TransferRow;
  readonly chunks: number;
  readonly chunkBytes: number;
  readonly file: FileHandle;
  /** Next new chunk to send. */
  sendPtr: number;
  /** The phone holds [0, acked). */
  acked: number;
  highestSent: number;
  readonly resend: number[];
  readonly resentAtMs: Map<number, number>;
  lastProgressMs: number;
  needManifest: boolean;
  done: boolean;
}

/**
 * Sends registered files one at a time: a manifest, then checksummed chunks (sync/transfer/framing.ts) with at
 * most `window` ahead of the phone's acknowledgement. Chunks the phone reports missing go first; when the phone
 * reappears or acknowledgements stall, the manifest goes out again and sending restarts from the last
 * acknowledged chunk, which is also where a restarted daemon begins. Synced only on the phone's whole-file sha256.
 */
export class TransferSender {
  private readonly repo: TransferRepository;
  private readonly bucket: TokenBucket;
  private readonly wakeup = new Wakeup();
  private active: Active | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly counters = { chunksSent: 0, chunksResent: 0, bytesSent: 0, synced: 0, failed: 0, timeouts: 0 };
  private readonly markSynced: (row: TransferRow, chunks: number) => void;

  constructor(private readonly o: TransferSenderOptions) {
    this.repo = new TransferRepository(o.db);
    this.markSynced = o.db.transaction((row: TransferRow, chunks: number) => {
      if (this.repo.markSynced(row.id, chunks)) {
        o.onSynced?.({ transferId: row.id, kind: row.kind, recordId: row.recordId });
      }
    });
    this.bucket = new TokenBucket(o.config.maxBytesPerSecond, Math.max(o.chunkBytes, o.config.maxBytesPerSecond / 10));
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeup.wake();
    await this.loop;
  }

  wake(): void {
    this.wakeup.wake();
  }

  /** The phone (re)appeared: it may have lost its session, so manifest again and go back to its last ack. */
  phoneOnline(): void {
    const a = this.active;
    if (a) this.goBack(a);
    this.wakeup.wake();
  }

  handleAck(transferId: string, message: InboundMessage): void {
    const row = this.repo.get(transferId);
    const decision = judgeAck(row, message.payload);
    if (decision.kind === 'ignore' || row === undefined) {
      const reason = decision.kind === 'ignore' ? decision.reason : 'unknown transfer';
      this.o.logger.warn({ transferId, reason }, 'snippet ack ignored');
      return;
    }
    const a = this.active?.row.id === transferId ? this.active : undefined;
    if (decision.kind === 'synced') {
      this.markSynced(row, decision.chunks);
      this.counters.synced++;
      this.o.logger.info({ transferId, recordId: row.recordId }, 'snippet synced');
      if (a) a.done = true;
      this.wakeup.wake();
      return;
    }
    this.repo.recordProgress(transferId, decision.next, Math.max(row.nextChunk, a?.highestSent ?? 0));
    if (a === undefined) return;
    if (decision.next !== a.acked) a.lastProgressMs = Date.now();
    // The phone's word is final, also when it says it holds less than before (it lost its partial file).
    if (decision.next < a.acked || a.sendPtr < decision.next) a.sendPtr = decision.next;
    a.acked = decision.next;
    const now = Date.now();
    for (const index of decision.missing) {
      if (index >= a.sendPtr || a.resend.includes(index)) continue;
      // An ack written before our resend arrived names the chunk again: do not send it twice in a row.
      if (now - (a.resentAtMs.get(index) ?? 0) < this.o.config.ackTimeoutMs / 3) continue;
      a.resend.push(index);
    }
    this.wakeup.wake();
  }

  stats(): TransferStats {
    const a = this.active;
    return { ...this.counters, ...(a ? { active: { id: a.row.id, acked: a.acked, chunks: a.chunks } } : {}) };
  }

  private async run(): Promise<void> {
    while (this.running) {
      const row = this.o.canSend() ? this.repo.nextOpen() : undefined;
      if (row === undefined) {
        await this.wakeup.wait(this.o.pollMs);
        continue;
      }
      try {
        await this.send(row);
      } catch (error) {
        // Reading the file failed mid-way (deleted, disk error): the transfer cannot complete as registered.
        this.fail(row, error instanceof Error ? error.message : String(error));
      }
    }
  }

  private async send(registered: TransferRow): Promise<void> {
    if (this.o.prepareFile && registered.nextChunk === 0 && registered.ackedChunks === 0) {
      const replacement = await this.o.prepareFile(registered);
      if (replacement) this.repo.replaceFile(registered.id, replacement);
    }
    const row = this.repo.begin(registered.id, this.o.chunkBytes) as TransferRow;
    const chunkBytes = row.chunkBytes as number;
    const problem = await this.checkFile(row);
    if (problem !== undefined) return this.fail(row, problem);
    const file = await open(row.path, 'r');
    const chunks = chunkCount(row.size, chunkBytes);
    const a: Active = {
      row,
      chunks,
      chunkBytes,
      file,
      sendPtr: row.ackedChunks,
      acked: row.ackedChunks,
      highestSent: row.nextChunk,
      resend: [],
      resentAtMs: new Map(),
      lastProgressMs: Date.now(),
      needManifest: true,
      done: false,
    };
    if (row.ackedChunks > 0)
      this.o.logger.info({ transferId: row.id, from: row.ackedChunks, chunks }, 'resuming transfer');
    this.active = a;
    try {
      while (this.running && !a.done) await this.step(a);
    } finally {
      this.active = undefined;
      await file.close();
    }
  }

  private async step(a: Active): Promise<void> {
    if (!this.o.canSend()) {
      await this.wakeup.wait(this.o.pollMs);
      return;
    }
    if (a.needManifest) {
      a.needManifest = false;
      a.lastProgressMs = Date.now();
      this.publish(this.o.topics.manifest(a.row.id), JSON.stringify(manifestOf(a)));
    }
    const index =
      a.resend.shift() ??
      (a.sendPtr < a.chunks && a.sendPtr - a.acked < this.o.config.window ? a.sendPtr++ : undefined);
    if (index !== undefined) return this.sendChunk(a, index);
    const idleMs = Date.now() - a.lastProgressMs;
    if (idleMs >= this.o.config.ackTimeoutMs) {
      this.counters.timeouts++;
      this.o.logger.debug({ transferId: a.row.id, acked: a.acked }, 'no ack progress: going back to the last ack');
      this.goBack(a);
      return;
    }
    await this.wakeup.wait(this.o.config.ackTimeoutMs - idleMs);
  }

  private async sendChunk(a: Active, index: number): Promise<void> {
    const offset = index * a.chunkBytes;
    const length = Math.min(a.chunkBytes, a.row.size - offset);
    const frame = Buffer.allocUnsafe(CHUNK_HEADER_BYTES + length);
    const { bytesRead } = await a.file.read(frame, CHUNK_HEADER_BYTES, length, offset);
    if (bytesRead !== length) throw new Error(`file ${a.row.path} shrank while being sent`);
    sealChunk(frame, index);
    if (index < a.highestSent) {
      this.counters.chunksResent++;
      a.resentAtMs.set(index, Date.now());
    }
    a.highestSent = Math.max(a.highestSent, index + 1);
    this.counters.chunksSent++;
    this.counters.bytesSent += length;
    this.publish(this.o.topics.chunk(a.row.id, index), frame);
    const waitMs = this.bucket.take(length);
    if (waitMs >= 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }

  /** QoS 1 without waiting for PUBACK: the phone's acks pace the transfer, the window bounds what is in flight. */
  private publish(topic: string, payload: Buffer | string): void {
    this.o.link.publish(topic, payload, { qos: 1 }).catch((error: Error) => {
      this.o.logger.debug({ topic, err: error.message }, 'chunk publish failed; the ack protocol resends it');
    });
  }

  private goBack(a: Active): void {
    a.needManifest = true;
    a.sendPtr = a.acked;
    a.resend.length = 0;
    a.lastProgressMs = Date.now();
  }

  private async checkFile(row: TransferRow): Promise<string | undefined> {
    try {
      const digest = await fileDigest(row.path);
      if (digest.size !== row.size || digest.sha256 !== row.sha256) return 'file changed since it was registered';
      return undefined;
    } catch (error) {
      return `file unreadable: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  private fail(row: TransferRow, reason: string): void {
    this.repo.markFailed(row.id, reason);
    this.counters.failed++;
    this.o.logger.error({ transferId: row.id, path: row.path, reason }, 'snippet transfer failed');
  }
}

function manifestOf(a: Active): ManifestV1 {
  const { row } = a;
  return {
    v: 1,
    transferId: row.id,
    kind: row.kind,
    recordId: row.recordId,
    name: basename(row.path),
    size: row.size,
    sha256: row.sha256,
    chunkBytes: a.chunkBytes,
    chunks: a.chunks,
  };
}
