import { appendFileSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type ManifestV1, manifestV1, type SnippetAckV1 } from '../../sync/messages.ts';
import { fileDigest } from '../../sync/transfer/file-digest.ts';
import { decodeChunk } from '../../sync/transfer/framing.ts';
import { PartialFile } from './partial-file.ts';

export interface SnippetAssemblerOptions {
  readonly outDir: string;
  readonly logger: Logger;
  readonly sendAck: (transferId: string, ack: SnippetAckV1) => void;
  /** Acknowledge after this many new chunks (and when a gap shows, and when the file is whole). */
  readonly ackEvery?: number;
  /** A tap on every chunk that arrives, before any check (for tools that trace a transfer, and for tests). */
  readonly onChunk?: (transferId: string, index: number) => void;
}

export interface AssemblerStats {
  readonly completed: number;
  readonly chunks: number;
  readonly duplicateChunks: number;
  readonly badChunks: number;
  readonly unknownChunks: number;
  readonly checksumFailures: number;
}

/**
 * The phone's half of the snippet transfer: verifies each chunk's sha256, writes it at its offset, acknowledges
 * what it holds (with the gaps it has seen), and once every chunk is there checks the whole file's sha256 before
 * moving it to `snippets/` and confirming it with that sha256 (the device marks the snippet synced only then).
 */
export class SnippetAssembler {
  private readonly partialDir: string;
  private readonly snippetDir: string;
  private readonly open = new Map<string, PartialFile>();
  private readonly sinceAck = new Map<string, number>();
  private readonly finishing = new Set<string>();
  /** Transfers with an ack being saved, those that want another when it is done, and gaps seen meanwhile. */
  private readonly acking = new Set<string>();
  private readonly ackAgain = new Set<string>();
  private readonly badChunks = new Map<string, Set<number>>();
  private readonly counters = {
    completed: 0,
    chunks: 0,
    duplicateChunks: 0,
    badChunks: 0,
    unknownChunks: 0,
    checksumFailures: 0,
  };

  constructor(private readonly o: SnippetAssemblerOptions) {
    this.partialDir = join(o.outDir, '.partial');
    this.snippetDir = join(o.outDir, 'snippets');
    mkdirSync(this.partialDir, { recursive: true });
    mkdirSync(this.snippetDir, { recursive: true });
  }

  stats(): AssemblerStats {
    return { ...this.counters };
  }

  /** A manifest opens (or resumes) a transfer and is answered with where we are. */
  manifest(payload: Buffer): void {
    let parsed: ReturnType<typeof manifestV1.safeParse>;
    try {
      parsed = manifestV1.safeParse(JSON.parse(payload.toString('utf8')));
    } catch {
      this.o.logger.warn('manifest is not JSON: ignored');
      return;
    }
    if (!parsed.success) {
      this.o.logger.warn({ issue: parsed.error.issues[0]?.message }, 'manifest invalid: ignored');
      return;
    }
    const m = parsed.data;
    let partial = this.open.get(m.transferId);
    if (partial === undefined || partial.manifest.sha256 !== m.sha256) {
      partial = PartialFile.open(this.partialDir, m);
      this.open.set(m.transferId, partial);
    }
    if (partial.complete && partial.file === undefined) void this.finish(partial);
    else this.ack(partial);
  }

  chunk(transferId: string, topicIndex: string, payload: Buffer): void {
    this.o.onChunk?.(transferId, Number(topicIndex));
    const partial = this.open.get(transferId);
    if (partial === undefined) {
      // No manifest yet (it was lost, or we restarted): the device sends it again when our acks stall.
      this.counters.unknownChunks++;
      return;
    }
    const decoded = decodeChunk(payload);
    const index = Number(topicIndex);
    if ('error' in decoded || decoded.index !== index || index >= partial.manifest.chunks) {
      this.counters.badChunks++;
      this.o.logger.warn(
        { transferId, index: topicIndex, reason: 'error' in decoded ? decoded.error : 'bad index' },
        'chunk refused',
      );
      if (Number.isInteger(index) && index >= partial.next && index < partial.manifest.chunks) {
        this.ack(partial, [index]);
      }
      return;
    }
    const expected = Math.min(partial.manifest.chunkBytes, partial.manifest.size - index * partial.manifest.chunkBytes);
    if (decoded.data.length !== expected) {
      this.counters.badChunks++;
      this.ack(partial, [index]);
      return;
    }
    if (!partial.write(index, decoded.data)) {
      this.counters.duplicateChunks++;
      return;
    }
    this.counters.chunks++;
    if (partial.complete) {
      void this.finish(partial);
      return;
    }
    const count = (this.sinceAck.get(transferId) ?? 0) + 1;
    this.sinceAck.set(transferId, count);
    const gap = index > partial.next;
    if (count >= (this.o.ackEvery ?? 4) || gap) this.ack(partial);
  }

  /** Acknowledges transfers with chunks not yet acknowledged (the receiver calls this on a short timer). */
  flush(): void {
    for (const [id, count] of this.sinceAck) {
      const partial = this.open.get(id);
      if (count > 0 && partial && !partial.complete) this.ack(partial);
    }
  }

  async close(): Promise<void> {
    for (const partial of this.open.values()) await partial.close();
  }

  /**
   * Acknowledges what is durably held. While one ack's save is in progress, further requests fold into one more
   * ack after it: the disk's latency sets the pace, and every ack claims only what was on disk before it.
   */
  private ack(partial: PartialFile, badChunks: readonly number[] = []): void {
    const id = partial.manifest.transferId;
    const bad = this.badChunks.get(id) ?? new Set<number>();
    for (const index of badChunks) bad.add(index);
    this.badChunks.set(id, bad);
    this.sinceAck.set(id, 0);
    if (this.acking.has(id)) {
      this.ackAgain.add(id);
      return;
    }
    this.acking.add(id);
    partial
      .save()
      .then((held) => {
        if (partial.file !== undefined) {
          const m = partial.manifest;
          this.o.sendAck(id, { v: 1, next: m.chunks, missing: [], sha256: m.sha256 });
          return;
        }
        const missing = [...new Set([...held.missing, ...[...bad].filter((i) => i >= held.next)])];
        bad.clear();
        this.o.sendAck(id, { v: 1, next: held.next, missing: missing.sort((a, b) => a - b).slice(0, 1024) });
      })
      .catch((error: Error) => this.o.logger.error({ transferId: id, err: error.message }, 'cannot save a transfer'))
      .finally(() => {
        this.acking.delete(id);
        if (this.ackAgain.delete(id)) this.ack(partial);
      });
  }

  private async finish(partial: PartialFile): Promise<void> {
    const m = partial.manifest;
    if (this.finishing.has(m.transferId)) return;
    this.finishing.add(m.transferId);
    try {
      await partial.close();
      if (!existsSync(partial.partPath)) writeFileSync(partial.partPath, ''); // a zero-byte file has no chunks
      const digest = await fileDigest(partial.partPath);
      if (digest.sha256 !== m.sha256 || digest.size !== m.size) {
        this.counters.checksumFailures++;
        this.o.logger.error({ transferId: m.transferId }, 'assembled file does not match its sha256: starting over');
        partial.reset();
        this.ack(partial);
        return;
      }
      const file = join(this.snippetDir, `${m.transferId}-${safeName(m.name)}`);
      renameSync(partial.partPath, file);
      partial.file = file;
      appendFileSync(join(this.o.outDir, 'snippets.jsonl'), `${JSON.stringify({ ...manifestFields(m), file })}\n`);
      this.counters.completed++;
      this.ack(partial);
    } finally {
      this.finishing.delete(m.transferId);
    }
  }
}

function manifestFields(m: ManifestV1) {
  return { transferId: m.transferId, kind: m.kind, recordId: m.recordId, name: m.name, size: m.size, sha256: m.sha256 };
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 128) || 'file';
}
