import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import type { Db } from '../../storage/db.ts';
import { TransferRepository, type TransferRow } from '../../storage/transfers.ts';
import type { SyncConfig } from '../config.ts';
import type { Link } from '../link.ts';
import type { ManifestV1 } from '../messages.ts';
import type { TokenBucket } from '../rate-limit.ts';
import type { InboundMessage } from '../router.ts';
import type { Topics } from '../topics.ts';
import { Wakeup } from '../wakeup.ts';
import { ackTargetOf, chunkCount, judgeAck } from './ack.ts';
import { fileDigest } from './file-digest.ts';
import { ChunkStream, chunkBucket, newStreamCounters } from './stream.ts';

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
  readonly stream: ChunkStream;
}

/**
 * Sends registered files to the phone one at a time, each through the shared chunk stream (stream.ts: manifest,
 * checksummed chunks within a window of the phone's acks, missing chunks first, back to the last ack when acks
 * stall or the phone reappears). Acks move `acked_chunks` in the database, which is where a restarted daemon
 * begins; a transfer is synced only on the phone's whole-file sha256.
 */
export class TransferSender {
  private readonly repo: TransferRepository;
  private readonly bucket: TokenBucket;
  private readonly wakeup = new Wakeup();
  private active: Active | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly counters = { ...newStreamCounters(), synced: 0, failed: 0 };
  private readonly markSynced: (row: TransferRow, chunks: number) => void;

  constructor(private readonly o: TransferSenderOptions) {
    this.repo = new TransferRepository(o.db);
    this.markSynced = o.db.transaction((row: TransferRow, chunks: number) => {
      if (this.repo.markSynced(row.id, chunks)) {
        o.onSynced?.({ transferId: row.id, kind: row.kind, recordId: row.recordId });
      }
    });
    this.bucket = chunkBucket(o.config.maxBytesPerSecond, o.chunkBytes);
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeup.wake();
    this.active?.stream.wake();
    await this.loop;
  }

  wake(): void {
    this.wakeup.wake();
    this.active?.stream.wake();
  }

  /** The phone (re)appeared: it may have lost its session, so manifest again and go back to its last ack. */
  phoneOnline(): void {
    this.active?.stream.goBack();
    this.wakeup.wake();
  }

  handleAck(transferId: string, message: InboundMessage): void {
    const row = this.repo.get(transferId);
    const decision = judgeAck(ackTargetOf(row), message.payload);
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
      a?.stream.finish();
      this.wakeup.wake();
      return;
    }
    this.repo.recordProgress(transferId, decision.next, Math.max(row.nextChunk, a?.stream.highest ?? 0));
    a?.stream.progress(decision.next, decision.missing);
  }

  stats(): TransferStats {
    const a = this.active;
    const { chunksSent, chunksResent, bytesSent, timeouts, synced, failed } = this.counters;
    return {
      ...{ chunksSent, chunksResent, bytesSent, timeouts, synced, failed },
      ...(a ? { active: { id: a.row.id, acked: a.stream.acked, chunks: a.chunks } } : {}),
    };
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
    const manifest: ManifestV1 = {
      ...{ v: 1, transferId: row.id, kind: row.kind, recordId: row.recordId, name: basename(row.path) },
      ...{ size: row.size, sha256: row.sha256, chunkBytes, chunks },
    };
    const stream = new ChunkStream(
      {
        ...{ size: row.size, chunkBytes, chunks, acked: row.ackedChunks, highestSent: row.nextChunk },
        ...{ window: this.o.config.window, ackTimeoutMs: this.o.config.ackTimeoutMs, pollMs: this.o.pollMs },
        bucket: this.bucket,
        read: async (into, at, length, offset) => (await file.read(into, at, length, offset)).bytesRead,
        publishManifest: () => this.publish(this.o.topics.manifest(row.id), JSON.stringify(manifest)),
        publishChunk: (index, frame) => this.publish(this.o.topics.chunk(row.id, index), frame),
        canSend: this.o.canSend,
        onTimeout: (acked) =>
          this.o.logger.debug({ transferId: row.id, acked }, 'no ack progress: going back to the last ack'),
      },
      this.counters,
    );
    if (row.ackedChunks > 0) {
      this.o.logger.info({ transferId: row.id, from: row.ackedChunks, chunks }, 'resuming transfer');
    }
    this.active = { row, chunks, stream };
    try {
      await stream.run(() => this.running);
    } finally {
      this.active = undefined;
      await file.close();
    }
  }

  /** QoS 1 without waiting for PUBACK: the phone's acks pace the transfer, the window bounds what is in flight. */
  private publish(topic: string, payload: Buffer | string): void {
    this.o.link.publish(topic, payload, { qos: 1 }).catch((error: Error) => {
      this.o.logger.debug({ topic, err: error.message }, 'chunk publish failed; the ack protocol resends it');
    });
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
