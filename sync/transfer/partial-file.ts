import { closeSync, existsSync, fdatasync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';

const datasync = promisify(fdatasync);

/** What an acknowledgement may claim: the chunks that were durable when it was saved. */
export interface Held {
  readonly next: number;
  readonly missing: number[];
}

/** How a file is cut: the same numbers the sender announced in its manifest. */
export interface ChunkLayout {
  readonly size: number;
  readonly chunkBytes: number;
  readonly chunks: number;
}

/**
 * Where an incoming file records which chunks it holds: a JSON file beside it on the phone (tools/receiver), a
 * SQLite row on the device (OTA models). `save` runs only after the part file's data is on disk, so whatever it
 * records is true after a crash.
 */
export interface ChunkLedger {
  /** The saved chunk map (one byte per chunk, 1 = held), or undefined when none was saved for this layout. */
  load(): Uint8Array | undefined;
  save(received: Uint8Array): void;
}

/**
 * One incoming file: `partPath` filled chunk by chunk at each chunk's offset, and a ledger saying which chunks it
 * holds. `save()` makes both durable before an ack claims them, so a restarted receiver resumes where its last ack
 * said it was. Saves run one after another, off the event loop, while chunks keep arriving; each claims only what
 * was written before its fdatasync began. Used by both directions of transfer: the phone receiving snippets, the
 * device receiving models.
 */
export class PartialFile {
  readonly received: Uint8Array;
  /** All chunks below `next` are held. */
  next = 0;
  highest = -1;
  private fd: number | undefined;
  private saving: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly partPath: string,
    readonly layout: ChunkLayout,
    private readonly ledger: ChunkLedger,
    received: Uint8Array,
  ) {
    this.received = received;
    for (let i = 0; i < received.length; i++) if (received[i] === 1) this.highest = i;
    this.advance();
  }

  get complete(): boolean {
    return this.next === this.layout.chunks;
  }

  /** Resumes what the ledger saved when it fits the layout, or starts an empty part file. */
  static open(partPath: string, layout: ChunkLayout, ledger: ChunkLedger): PartialFile {
    const saved = ledger.load();
    if (saved !== undefined && saved.length === layout.chunks) {
      return new PartialFile(partPath, layout, ledger, saved);
    }
    // Anything left at this path belongs to another file: start from an empty part file.
    rmSync(partPath, { force: true });
    return new PartialFile(partPath, layout, ledger, new Uint8Array(layout.chunks));
  }

  /** The length chunk `index` must have. */
  chunkLength(index: number): number {
    return Math.min(this.layout.chunkBytes, this.layout.size - index * this.layout.chunkBytes);
  }

  /** Writes a verified chunk at its offset; false when it was already held. */
  write(index: number, data: Buffer): boolean {
    if (this.received[index] === 1) return false;
    this.fd ??= openSync(this.partPath, existsSync(this.partPath) ? 'r+' : 'w+');
    writeSync(this.fd, data, 0, data.length, index * this.layout.chunkBytes);
    this.received[index] = 1;
    this.highest = Math.max(this.highest, index);
    this.advance();
    return true;
  }

  /** Chunks below the highest one held that are not held: the gaps to ask for (at most `limit`). */
  missing(limit = 1024): number[] {
    const out: number[] = [];
    for (let i = this.next; i < this.highest && out.length < limit; i++) if (this.received[i] !== 1) out.push(i);
    return out;
  }

  /** Forgets every chunk (the assembled file did not match its sha256); the file must be closed. */
  reset(): void {
    this.received.fill(0);
    this.next = 0;
    this.highest = -1;
  }

  save(): Promise<Held> {
    const received = Uint8Array.from(this.received);
    const held: Held = { next: this.next, missing: this.missing() };
    const fd = this.fd;
    const run = async () => {
      if (fd !== undefined) await datasync(fd);
      this.ledger.save(received);
      return held;
    };
    const done = this.saving.then(run);
    this.saving = done.catch(() => undefined);
    return done;
  }

  /** Closes the part file (after any save in progress) so it can be verified and moved. */
  async close(): Promise<void> {
    await this.saving;
    if (this.fd === undefined) return;
    fdatasyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
  }

  private advance(): void {
    while (this.next < this.received.length && this.received[this.next] === 1) this.next++;
  }
}
