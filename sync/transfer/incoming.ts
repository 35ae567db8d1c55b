import type { Logger } from 'pino';
import type { SnippetAckV1 } from '../messages.ts';
import { decodeChunk } from './framing.ts';
import type { PartialFile } from './partial-file.ts';

export type ChunkOutcome = 'written' | 'duplicate' | 'refused' | 'complete';

export interface IncomingFileOptions {
  readonly partial: PartialFile;
  /** The whole file's sha256, as the sender's manifest announced it. */
  readonly sha256: string;
  readonly sendAck: (ack: SnippetAckV1) => void;
  /** Acknowledge after this many new chunks (and at once on a gap or a refused chunk). */
  readonly ackEvery: number;
  /** True once the whole file has been verified and kept: acks then confirm it with its sha256. */
  readonly finished: () => boolean;
  readonly logger: Logger;
  /** Fields for log lines (which transfer this is). */
  readonly label: Readonly<Record<string, unknown>>;
}

/**
 * The receiving half of a chunked transfer, whichever way it runs (snippets to the phone, models to the device):
 * checks each chunk's framing, hash, index and length, writes it at its offset, and acknowledges what is durably
 * held with the gaps it has seen. A refused chunk is named in the next ack's `missing`, which is how the sender
 * learns to send it again. While one ack's save is in progress, further requests fold into one more ack after it:
 * the disk's latency sets the pace, and every ack claims only what was on disk before it.
 */
export class IncomingFile {
  private sinceAck = 0;
  private acking = false;
  private ackAgain = false;
  private readonly bad = new Set<number>();

  constructor(private readonly o: IncomingFileOptions) {}

  get partial(): PartialFile {
    return this.o.partial;
  }

  chunk(topicIndex: string, payload: Buffer): ChunkOutcome {
    const partial = this.o.partial;
    const { chunks } = partial.layout;
    const index = Number(topicIndex);
    const decoded = decodeChunk(payload);
    let problem: string | undefined;
    if ('error' in decoded) problem = decoded.error;
    else if (decoded.index !== index || !Number.isInteger(index) || index >= chunks) problem = 'bad index';
    else if (decoded.data.length !== partial.chunkLength(index)) problem = `length ${decoded.data.length}`;
    if (problem !== undefined || 'error' in decoded) {
      this.o.logger.warn({ ...this.o.label, index: topicIndex, reason: problem }, 'chunk refused');
      if (Number.isInteger(index) && index >= partial.next && index < chunks) this.ack([index]);
      return 'refused';
    }
    if (!partial.write(index, decoded.data)) return 'duplicate';
    if (partial.complete) return 'complete';
    this.sinceAck++;
    if (this.sinceAck >= this.o.ackEvery || index > partial.next) this.ack();
    return 'written';
  }

  /** Acknowledges chunks received since the last ack (receivers call this on a short timer). */
  flush(): void {
    if (this.sinceAck > 0 && !this.o.partial.complete) this.ack();
  }

  /** Acknowledges what is durably held, naming `badChunks` (refused ones) among the missing. */
  ack(badChunks: readonly number[] = []): void {
    for (const index of badChunks) this.bad.add(index);
    this.sinceAck = 0;
    if (this.acking) {
      this.ackAgain = true;
      return;
    }
    this.acking = true;
    this.o.partial
      .save()
      .then((held) => {
        if (this.o.finished()) {
          const { chunks } = this.o.partial.layout;
          this.o.sendAck({ v: 1, next: chunks, missing: [], sha256: this.o.sha256 });
          return;
        }
        const missing = [...new Set([...held.missing, ...[...this.bad].filter((i) => i >= held.next)])];
        this.bad.clear();
        this.o.sendAck({ v: 1, next: held.next, missing: missing.sort((a, b) => a - b).slice(0, 1024) });
      })
      .catch((error: Error) => this.o.logger.error({ ...this.o.label, err: error.message }, 'cannot save a transfer'))
      .finally(() => {
        this.acking = false;
        if (this.ackAgain) {
          this.ackAgain = false;
          this.ack();
        }
      });
  }
}
