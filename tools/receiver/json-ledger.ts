import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { ManifestV1 } from '../../sync/messages.ts';
import type { ChunkLedger } from '../../sync/transfer/partial-file.ts';

interface SavedState {
  readonly manifest: ManifestV1;
  /** One byte per chunk, base64: 1 when the chunk is written and verified. */
  readonly received: string;
  /** Where the finished file went; present once the whole file's sha256 matched. */
  readonly file?: string;
}

/** The phone's record of an incoming snippet: `<id>.json` beside `<id>.part`, replaced atomically on each save. */
export class JsonLedger implements ChunkLedger {
  /** Where the finished file went, once it is whole and verified. */
  file: string | undefined;
  private readonly saved: SavedState | undefined;

  constructor(
    private readonly statePath: string,
    private readonly manifest: ManifestV1,
  ) {
    if (!existsSync(statePath)) return;
    const saved = JSON.parse(readFileSync(statePath, 'utf8')) as SavedState;
    const m = saved.manifest;
    if (m.sha256 === manifest.sha256 && m.size === manifest.size && m.chunkBytes === manifest.chunkBytes) {
      this.saved = saved;
      this.file = saved.file;
    }
  }

  load(): Uint8Array | undefined {
    return this.saved ? new Uint8Array(Buffer.from(this.saved.received, 'base64')) : undefined;
  }

  save(received: Uint8Array): void {
    const state: SavedState = {
      manifest: this.manifest,
      received: Buffer.from(received).toString('base64'),
      ...(this.file === undefined ? {} : { file: this.file }),
    };
    writeFileSync(`${this.statePath}.tmp`, JSON.stringify(state));
    renameSync(`${this.statePath}.tmp`, this.statePath);
  }
}
