import { TokenBucket } from '../rate-limit.ts';
import { Wakeup } from '../wakeup.ts';
import { CHUNK_HEADER_BYTES, sealChunk } from './framing.ts';

/** Reads `length` bytes at `offset` into `into` at `at`; returns how many were read. */
export type ChunkReader = (into: Buffer, at: number, length: number, offset: number) => Promise<number>;

export interface ChunkStreamOptions {
  readonly size: number;
  readonly chunkBytes: number;
  readonly chunks: number;
  /** The receiver holds [0, acked) (from a stored ack, when resuming). */
  readonly acked: number;
  /** How far earlier sending got (chunks below it count as resent). */
  readonly highestSent: number;
  readonly window: number;
  readonly ackTimeoutMs: number;
  readonly pollMs: number;
  readonly bucket: TokenBucket;
  readonly read: ChunkReader;
  readonly publishManifest: () => void;
  readonly publishChunk: (index: number, frame: Buffer) => void;
  /** Connected, and the receiver is listening. */
  readonly canSend: () => boolean;
  readonly onTimeout?: (acked: number) => void;
  /**
   * After each manifest, send no chunk until the receiver answers with an ack. A sender that knows nothing of the
   * receiver's state (a flasher started again, or reconnected) then begins where the receiver is, not where it
   * last heard. The snippet sender keeps its stored ack and streams at once.
   */
  readonly handshake?: boolean;
}

export interface StreamCounters {
  chunksSent: number;
  chunksResent: number;
  bytesSent: number;
  timeouts: number;
}

export function newStreamCounters(): StreamCounters {
  return { chunksSent: 0, chunksResent: 0, bytesSent: 0, timeouts: 0 };
}

/** A token bucket of chunk bytes: the sustained rate, with a burst of a tenth of a second (at least one chunk). */
export function chunkBucket(maxBytesPerSecond: number, chunkBytes: number): TokenBucket {
  return new TokenBucket(maxBytesPerSecond, Math.max(chunkBytes, maxBytesPerSecond / 10));
}

/**
 * The sending half of a chunked transfer, whichever way it runs (snippets device → phone, models flasher →
 * device): a manifest, then checksummed chunks (framing.ts) with at most `window` beyond the receiver's last
 * acknowledgement. Chunks the receiver reports missing go first; when acknowledgements stall for `ackTimeoutMs`,
 * or `goBack()` is called (the receiver reappeared), the manifest goes again and sending restarts from the last
 * acknowledged chunk. The receiver's word is final, also when it says it holds less than before.
 */
export class ChunkStream {
  private sendPtr: number;
  private ackedChunks: number;
  private highestSent: number;
  private readonly resend: number[] = [];
  private readonly resentAtMs = new Map<number, number>();
  private lastProgressMs = Date.now();
  private needManifest = true;
  private awaitingAnswer = false;
  private done = false;
  private readonly wakeup = new Wakeup();

  constructor(
    private readonly o: ChunkStreamOptions,
    private readonly counters: StreamCounters = newStreamCounters(),
  ) {
    this.sendPtr = o.acked;
    this.ackedChunks = o.acked;
    this.highestSent = o.highestSent;
  }

  get acked(): number {
    return this.ackedChunks;
  }

  get highest(): number {
    return this.highestSent;
  }

  get finished(): boolean {
    return this.done;
  }

  /** Sends until `finish()` is called or `running()` turns false. */
  async run(running: () => boolean): Promise<void> {
    while (running() && !this.done) await this.step();
  }

  /** The receiver confirmed the whole file (or it is no longer wanted): the run loop ends. */
  finish(): void {
    this.done = true;
    this.wakeup.wake();
  }

  wake(): void {
    this.wakeup.wake();
  }

  /** The receiver holds [0, next) and lacks `missing`. */
  progress(next: number, missing: readonly number[]): void {
    this.awaitingAnswer = false;
    if (next !== this.ackedChunks) this.lastProgressMs = Date.now();
    if (next < this.ackedChunks || this.sendPtr < next) this.sendPtr = next;
    this.ackedChunks = next;
    const now = Date.now();
    for (const index of missing) {
      if (index >= this.sendPtr || this.resend.includes(index)) continue;
      // An ack written before our resend arrived names the chunk again: do not send it twice in a row.
      if (now - (this.resentAtMs.get(index) ?? 0) < this.o.ackTimeoutMs / 3) continue;
      this.resend.push(index);
    }
    this.wakeup.wake();
  }

  /** Manifest again, and back to the last acknowledged chunk (the receiver may have lost what followed). */
  goBack(): void {
    this.needManifest = true;
    this.sendPtr = this.ackedChunks;
    this.resend.length = 0;
    this.lastProgressMs = Date.now();
    this.wakeup.wake();
  }

  private async step(): Promise<void> {
    if (!this.o.canSend()) {
      await this.wakeup.wait(this.o.pollMs);
      return;
    }
    if (this.needManifest) {
      this.needManifest = false;
      this.lastProgressMs = Date.now();
      this.awaitingAnswer = this.o.handshake === true;
      this.o.publishManifest();
    }
    const index = this.awaitingAnswer
      ? undefined
      : (this.resend.shift() ??
        (this.sendPtr < this.o.chunks && this.sendPtr - this.ackedChunks < this.o.window ? this.sendPtr++ : undefined));
    if (index !== undefined) return this.sendChunk(index);
    const idleMs = Date.now() - this.lastProgressMs;
    if (idleMs >= this.o.ackTimeoutMs) {
      this.counters.timeouts++;
      this.o.onTimeout?.(this.ackedChunks);
      this.goBack();
      return;
    }
    await this.wakeup.wait(this.o.ackTimeoutMs - idleMs);
  }

  private async sendChunk(index: number): Promise<void> {
    const offset = index * this.o.chunkBytes;
    const length = Math.min(this.o.chunkBytes, this.o.size - offset);
    const frame = Buffer.allocUnsafe(CHUNK_HEADER_BYTES + length);
    const bytesRead = await this.o.read(frame, CHUNK_HEADER_BYTES, length, offset);
    if (bytesRead !== length) throw new Error(`source shrank while being sent (chunk ${index})`);
    sealChunk(frame, index);
    if (index < this.highestSent) {
      this.counters.chunksResent++;
      this.resentAtMs.set(index, Date.now());
    }
    this.highestSent = Math.max(this.highestSent, index + 1);
    this.counters.chunksSent++;
    this.counters.bytesSent += length;
    this.o.publishChunk(index, frame);
    const waitMs = this.o.bucket.take(length);
    if (waitMs >= 1) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}
