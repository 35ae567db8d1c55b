import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Db } from '../../storage/db.ts';
import { OtaRepository, type OtaRow } from '../../storage/ota-transfers.ts';
import type { SyncConfig } from '../config.ts';
import type { Link } from '../link.ts';
import { type OtaManifestV1, type OtaResultV1, otaManifestV1, type SnippetAckV1 } from '../messages.ts';
import type { InboundMessage } from '../router.ts';
import { isTopicLevel, type Topics } from '../topics.ts';
import { fileDigest } from '../transfer/file-digest.ts';
import { IncomingFile } from '../transfer/incoming.ts';
import { PartialFile } from '../transfer/partial-file.ts';
import { splitBundle } from './bundle.ts';

/** The registry's verdict on a staged model directory (the device's composition root supplies the registry). */
export type OtaOutcome =
  | { readonly ok: true; readonly model: string; readonly previous?: string }
  | { readonly ok: false; readonly stage: string; readonly reason: string; readonly serving?: string };

/** Installs and activates the model in `dir` through the registry's safe path; never throws for a bad model. */
export type OtaInstaller = (dir: string) => Promise<OtaOutcome>;

export interface OtaReceiverOptions {
  readonly db: Db;
  readonly link: Link;
  readonly topics: Topics;
  readonly config: SyncConfig['ota'];
  /** Staging directory for incoming bundles (part files and unpacked model directories). */
  readonly dir: string | undefined;
  readonly install: OtaInstaller | undefined;
  readonly logger: Logger;
}

export interface OtaStats {
  readonly receiving: number;
  readonly chunks: number;
  readonly refusedChunks: number;
  readonly duplicateChunks: number;
  readonly installed: number;
  readonly refused: number;
}

interface Entry {
  readonly manifest: OtaManifestV1;
  readonly incoming: IncomingFile;
}

const FLUSH_MS = 20;

/**
 * The device's half of OTA: receives a model bundle through the shared receiving half of the chunked transfer
 * (chunk checks, acks with missing chunks, a chunk map saved in SQLite after each fdatasync of the staged part
 * file), checks the whole bundle's sha256, unpacks it into a staging directory and hands that to the registry
 * (verify signature and sha256 → session → I/O check → warm-up → atomic swap; a refusal keeps the old model
 * serving). The result goes to `models/ota/<id>/result`, and again whenever the flasher sends that manifest.
 * A bundle survives a lost connection, a broker restart and a daemon restart: its chunks and their map are on disk.
 */
export class OtaReceiver {
  private readonly repo: OtaRepository;
  private readonly open = new Map<string, Entry>();
  private installs: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly counters = { chunks: 0, refusedChunks: 0, duplicateChunks: 0, installed: 0, refused: 0 };

  constructor(private readonly o: OtaReceiverOptions) {
    this.repo = new OtaRepository(o.db);
  }

  /**
   * Finishes installs a previous run was in the middle of, removes what finished bundles left in the staging
   * directory (a crash between storing a result and the clean-up), and acks chunks received on a short timer.
   */
  start(): void {
    if (this.o.dir !== undefined) {
      mkdirSync(this.o.dir, { recursive: true });
      for (const name of readdirSync(this.o.dir)) {
        const state = this.repo.get(name.replace(/\.part$/, ''))?.state;
        if (state !== 'receiving' && state !== 'installing')
          rmSync(join(this.o.dir, name), { recursive: true, force: true });
      }
    }
    for (const row of this.repo.inState('installing')) this.queueInstall(row.id, parseStored(row));
    this.timer = setInterval(() => {
      for (const entry of this.open.values()) entry.incoming.flush();
    }, FLUSH_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.installs;
    for (const entry of this.open.values()) await entry.incoming.partial.close();
    this.open.clear();
  }

  stats(): OtaStats {
    return { receiving: this.open.size, ...this.counters };
  }

  handleManifest(otaId: string, message: InboundMessage): void {
    if (!isTopicLevel(otaId)) return;
    if (message.retain) {
      this.o.logger.warn({ otaId }, 'retained OTA manifest ignored');
      return;
    }
    const manifest = this.admit(otaId, message.payload);
    if (typeof manifest === 'string') {
      this.o.logger.warn({ otaId, reason: manifest }, 'OTA refused');
      this.publishResult(otaId, { v: 1, otaId, ok: false, stage: 'transfer', reason: manifest });
      return;
    }
    const row = this.repo.get(otaId);
    if (row?.result) this.publishRaw(otaId, row.result);
    else if (row?.state === 'installing') this.sendAck(otaId, fullAck(manifest));
    else {
      if (row === undefined) this.begin(manifest);
      this.entry(otaId)?.incoming.ack();
    }
  }

  /** The manifest, or why this bundle is refused before anything is staged. */
  private admit(otaId: string, payload: Buffer): OtaManifestV1 | string {
    if (!this.o.config.enabled || this.o.install === undefined || this.o.dir === undefined) {
      return 'this device does not accept models over the air (sync.ota.enabled is false, or no registry)';
    }
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      return 'OTA manifest is not JSON';
    }
    const parsed = otaManifestV1.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return `OTA manifest invalid: ${issue?.path.join('.') || '(manifest)'}: ${issue?.message ?? ''}`;
    }
    const manifest = parsed.data;
    if (manifest.otaId !== otaId) return `the manifest is for ${manifest.otaId}, not ${otaId}`;
    if (manifest.size > this.o.config.maxBytes) {
      return `bundle of ${manifest.size} bytes is larger than sync.ota.maxBytes (${this.o.config.maxBytes})`;
    }
    const row = this.repo.get(otaId);
    if (row !== undefined && row.sha256 !== manifest.sha256) return 'another bundle already has this id';
    if (row?.state === 'dropped') return 'this bundle was superseded by a newer one of the same model';
    return manifest;
  }

  handleChunk(otaId: string, index: string, message: InboundMessage): void {
    const entry = this.entry(otaId);
    if (entry === undefined) return; // no manifest yet: the flasher sends it again when our acks stall
    const outcome = entry.incoming.chunk(index, message.payload);
    if (outcome === 'refused') this.counters.refusedChunks++;
    else if (outcome === 'duplicate') this.counters.duplicateChunks++;
    else this.counters.chunks++;
    if (outcome === 'complete') void this.complete(otaId, entry);
  }

  /** A new bundle: other bundles of the same model still arriving are dropped (the newest flash wins). */
  private begin(manifest: OtaManifestV1): void {
    const model = `${manifest.model.name}@${manifest.model.version}`;
    for (const old of this.repo.inState('receiving')) {
      if (old.model.split('@')[0] !== manifest.model.name) continue;
      if (this.repo.transition(old.id, 'receiving', 'dropped')) {
        this.o.logger.info({ otaId: old.id, model: old.model, by: model }, 'OTA superseded');
        void this.open.get(old.id)?.incoming.partial.close();
        this.open.delete(old.id);
        this.removeStaged(old.id);
      }
    }
    this.repo.create({
      ...{ id: manifest.otaId, model, manifest: JSON.stringify(manifest), size: manifest.size },
      ...{ sha256: manifest.sha256, chunkBytes: manifest.chunkBytes, chunks: manifest.chunks },
    });
    this.o.logger.info({ otaId: manifest.otaId, model, bytes: manifest.size, chunks: manifest.chunks }, 'OTA begun');
  }

  /** The bundle being received under `otaId`, opened from the database after a restart. */
  private entry(otaId: string): Entry | undefined {
    const known = this.open.get(otaId);
    if (known !== undefined) return known;
    const row = this.repo.get(otaId);
    if (row === undefined || row.state !== 'receiving' || this.o.dir === undefined) return undefined;
    const manifest = parseStored(row);
    const repo = this.repo;
    const partial = PartialFile.open(this.partPath(otaId), manifest, {
      load: () => new Uint8Array(repo.get(otaId)?.received ?? Buffer.alloc(0)),
      save: (received) => void repo.recordReceived(otaId, received),
    });
    if (partial.next > 0) this.o.logger.info({ otaId, from: partial.next, chunks: manifest.chunks }, 'OTA resumed');
    const incoming = new IncomingFile({
      partial,
      sha256: manifest.sha256,
      sendAck: (ack) => this.sendAck(otaId, ack),
      ackEvery: this.o.config.ackEvery,
      finished: () => repo.get(otaId)?.state !== 'receiving',
      logger: this.o.logger,
      label: { otaId },
    });
    const entry = { manifest, incoming };
    this.open.set(otaId, entry);
    return entry;
  }

  private async complete(otaId: string, entry: Entry): Promise<void> {
    const partial = entry.incoming.partial;
    await partial.close();
    const digest = await fileDigest(partial.partPath);
    if (digest.sha256 !== entry.manifest.sha256 || digest.size !== entry.manifest.size) {
      this.o.logger.error({ otaId }, 'staged bundle does not match its sha256: starting over');
      partial.reset();
      entry.incoming.ack();
      return;
    }
    this.open.delete(otaId);
    if (!this.repo.transition(otaId, 'receiving', 'installing')) return;
    this.sendAck(otaId, fullAck(entry.manifest));
    this.queueInstall(otaId, entry.manifest);
  }

  /** Installs run one at a time; the registry serialises activations too. */
  private queueInstall(otaId: string, manifest: OtaManifestV1): void {
    this.installs = this.installs.then(() => this.install(otaId, manifest));
  }

  private async install(otaId: string, manifest: OtaManifestV1): Promise<void> {
    const staged = join(this.o.dir as string, otaId);
    let outcome: OtaOutcome;
    const problem = this.unpack(otaId, manifest, staged);
    if (problem !== undefined) outcome = { ok: false, stage: 'transfer', reason: problem };
    else {
      try {
        outcome = await (this.o.install as OtaInstaller)(staged);
      } catch (error) {
        outcome = { ok: false, stage: 'install', reason: error instanceof Error ? error.message : String(error) };
      }
    }
    const result: OtaResultV1 = { v: 1, otaId, ...outcome };
    // The result is stored before the staged files go, so a crash in between repeats nothing but the clean-up.
    this.repo.finish(otaId, outcome.ok ? 'installed' : 'refused', JSON.stringify(result));
    this.removeStaged(otaId);
    if (outcome.ok) this.counters.installed++;
    else this.counters.refused++;
    const log = { otaId, model: `${manifest.model.name}@${manifest.model.version}`, ...outcome };
    if (outcome.ok) this.o.logger.info(log, 'OTA model installed and serving');
    else this.o.logger.warn(log, 'OTA model refused; the serving model is unchanged');
    this.publishResult(otaId, result);
  }

  private unpack(otaId: string, manifest: OtaManifestV1, staged: string): string | undefined {
    try {
      rmSync(staged, { recursive: true, force: true });
      const problem = splitBundle(this.partPath(otaId), manifest, staged);
      if (problem !== undefined) return problem;
      const inner = JSON.parse(readFileSync(join(staged, 'manifest.json'), 'utf8')) as Record<string, unknown>;
      const { name, version } = manifest.model;
      if (inner.name !== name || inner.version !== version) {
        return `the OTA manifest announces ${name}@${version}, manifest.json says ${String(inner.name)}@${String(inner.version)}`;
      }
      return undefined;
    } catch (error) {
      return `cannot unpack the staged bundle: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  private partPath(otaId: string): string {
    return join(this.o.dir as string, `${otaId}.part`);
  }

  private removeStaged(otaId: string): void {
    if (this.o.dir === undefined) return;
    rmSync(this.partPath(otaId), { force: true });
    rmSync(join(this.o.dir, otaId), { recursive: true, force: true });
  }

  private sendAck(otaId: string, ack: SnippetAckV1): void {
    this.publish(this.o.topics.ota(otaId, 'ack'), JSON.stringify(ack));
  }

  private publishResult(otaId: string, result: OtaResultV1): void {
    this.publishRaw(otaId, JSON.stringify(result));
  }

  private publishRaw(otaId: string, result: string): void {
    this.publish(this.o.topics.ota(otaId, 'result'), result);
  }

  private publish(topic: string, payload: string): void {
    this.o.link.publish(topic, payload, { qos: 1 }).catch((error: Error) => {
      this.o.logger.debug({ topic, err: error.message }, 'OTA reply not sent; the flasher asks again');
    });
  }
}

function fullAck(manifest: OtaManifestV1): SnippetAckV1 {
  return { v: 1, next: manifest.chunks, missing: [], sha256: manifest.sha256 };
}

/** Stored manifests were validated when they arrived. */
function parseStored(row: OtaRow): OtaManifestV1 {
  return JSON.parse(row.manifest) as OtaManifestV1;
}
