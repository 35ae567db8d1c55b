import { appendFileSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type ManifestV1, manifestV1, type SnippetAckV1 } from '../../sync/messages.ts';
import { fileDigest } from '../../sync/transfer/file-digest.ts';
import { IncomingFile } from '../../sync/transfer/incoming.ts';
import { PartialFile } from '../../sync/transfer/partial-file.ts';
import { JsonLedger } from './json-ledger.ts';

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

interface Open {
  readonly manifest: ManifestV1;
  readonly ledger: JsonLedger;
  readonly incoming: IncomingFile;
}

/**
 * The phone's half of the snippet transfer: the shared receiving half (sync/transfer/incoming.ts) checks and
 * writes each chunk and acknowledges what it holds; once every chunk is there this checks the whole file's sha256
 * before moving it to `snippets/` and confirming it with that sha256 (the device marks the snippet synced only then).
 */
export class SnippetAssembler {
  private readonly partialDir: string;
  private readonly snippetDir: string;
  private readonly open = new Map<string, Open>();
  private readonly finishing = new Set<string>();
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
    let entry = this.open.get(m.transferId);
    if (entry === undefined || entry.manifest.sha256 !== m.sha256) {
      entry = this.openTransfer(m);
      this.open.set(m.transferId, entry);
    }
    if (entry.incoming.partial.complete && entry.ledger.file === undefined) void this.finish(entry);
    else entry.incoming.ack();
  }

  chunk(transferId: string, topicIndex: string, payload: Buffer): void {
    this.o.onChunk?.(transferId, Number(topicIndex));
    const entry = this.open.get(transferId);
    if (entry === undefined) {
      // No manifest yet (it was lost, or we restarted): the device sends it again when our acks stall.
      this.counters.unknownChunks++;
      return;
    }
    const outcome = entry.incoming.chunk(topicIndex, payload);
    if (outcome === 'refused') this.counters.badChunks++;
    else if (outcome === 'duplicate') this.counters.duplicateChunks++;
    else this.counters.chunks++;
    if (outcome === 'complete') void this.finish(entry);
  }

  /** Acknowledges transfers with chunks not yet acknowledged (the receiver calls this on a short timer). */
  flush(): void {
    for (const entry of this.open.values()) entry.incoming.flush();
  }

  async close(): Promise<void> {
    for (const entry of this.open.values()) await entry.incoming.partial.close();
  }

  private openTransfer(m: ManifestV1): Open {
    const ledger = new JsonLedger(join(this.partialDir, `${m.transferId}.json`), m);
    const partial = PartialFile.open(join(this.partialDir, `${m.transferId}.part`), m, ledger);
    const incoming = new IncomingFile({
      partial,
      sha256: m.sha256,
      sendAck: (ack) => this.o.sendAck(m.transferId, ack),
      ackEvery: this.o.ackEvery ?? 4,
      finished: () => ledger.file !== undefined,
      logger: this.o.logger,
      label: { transferId: m.transferId },
    });
    return { manifest: m, ledger, incoming };
  }

  private async finish(entry: Open): Promise<void> {
    const { manifest: m, incoming, ledger } = entry;
    const partial = incoming.partial;
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
        incoming.ack();
        return;
      }
      const file = join(this.snippetDir, `${m.transferId}-${safeName(m.name)}`);
      renameSync(partial.partPath, file);
      ledger.file = file;
      appendFileSync(join(this.o.outDir, 'snippets.jsonl'), `${JSON.stringify({ ...manifestFields(m), file })}\n`);
      this.counters.completed++;
      incoming.ack();
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
