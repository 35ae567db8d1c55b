import {
  closeSync,
  existsSync,
  fdatasync,
  fdatasyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ManifestV1 } from '../../sync/messages.ts';

const datasync = promisify(fdatasync);

/** What an acknowledgement may claim: the chunks that were durable when it was saved. */
export interface Held {
  readonly next: number;
  readonly missing: number[];
}

interface SavedState {
  readonly manifest: ManifestV1;
  /** One byte per chunk, base64: 1 when the chunk is written and verified. */
  readonly received: string;
  /** Where the finished file went; present once the whole file's sha256 matched. */
  readonly file?: string;
}

/**
 * One incoming file on the phone's side: `<id>.part` filled chunk by chunk at each chunk's offset, and `<id>.json`
 * saying which chunks it holds. `save()` makes both durable before an ack claims them, so a restarted receiver
 * resumes where its last ack said it was. Saves run one after another, off the event loop, while chunks keep
 * arriving; each claims only what was written before its fdatasync began.
 */
export class PartialFile {
  readonly received: Uint8Array;
  /** All chunks below `next` are held. */
  next = 0;
  highest = -1;
  file: string | undefined;
  private fd: number | undefined;
  private saving: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    readonly manifest: ManifestV1,
    received: Uint8Array,
    file: string | undefined,
  ) {
    this.received = received;
    this.file = file;
    for (let i = 0; i < received.length; i++) if (received[i] === 1) this.highest = i;
    this.advance();
  }

  get partPath(): string {
    return join(this.dir, `${this.manifest.transferId}.part`);
  }

  get complete(): boolean {
    return this.next === this.manifest.chunks;
  }

  /** Resumes the saved state when it describes the same file, or starts an empty one. */
  static open(dir: string, manifest: ManifestV1): PartialFile {
    const statePath = join(dir, `${manifest.transferId}.json`);
    if (existsSync(statePath)) {
      const saved = JSON.parse(readFileSync(statePath, 'utf8')) as SavedState;
      const m = saved.manifest;
      if (m.sha256 === manifest.sha256 && m.size === manifest.size && m.chunkBytes === manifest.chunkBytes) {
        const received = new Uint8Array(Buffer.from(saved.received, 'base64'));
        if (received.length === manifest.chunks) return new PartialFile(dir, manifest, received, saved.file);
      }
    }
    // Anything left under this id belongs to another file: start from an empty part file.
    rmSync(join(dir, `${manifest.transferId}.part`), { force: true });
    return new PartialFile(dir, manifest, new Uint8Array(manifest.chunks), undefined);
  }

  /** Writes a verified chunk at its offset; false when it was already held. */
  write(index: number, data: Buffer): boolean {
    if (this.received[index] === 1) return false;
    this.fd ??= openSync(this.partPath, existsSync(this.partPath) ? 'r+' : 'w+');
    writeSync(this.fd, data, 0, data.length, index * this.manifest.chunkBytes);
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
    const received = Buffer.from(this.received).toString('base64');
    const held: Held = { next: this.next, missing: this.missing() };
    const fd = this.fd;
    const run = async () => {
      if (fd !== undefined) await datasync(fd);
      const state: SavedState = {
        manifest: this.manifest,
        received,
        ...(this.file === undefined ? {} : { file: this.file }),
      };
      const statePath = join(this.dir, `${this.manifest.transferId}.json`);
      writeFileSync(`${statePath}.tmp`, JSON.stringify(state));
      renameSync(`${statePath}.tmp`, statePath);
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
