import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type * as ort from 'onnxruntime-node';
import type { ModelsConfig } from './config.ts';
import { ModelRejectedError, messageOf, type RejectStage } from './errors.ts';
import { type InstallResult, installModel } from './install.ts';
import { type LoaderDeps, type LoadTimings, prepareModel } from './loader.ts';
import { MODEL_NAME, MODEL_VERSION } from './manifest.ts';
import type { InferenceResult, ServingModel } from './serving.ts';
import { type ModelLog, openSession, type SessionOpener, silentLog } from './session.ts';
import type { TrustedKey } from './signing.ts';
import { activationStack, MemoryModelStore, type ModelEvent, type ModelStore } from './store.ts';
import { compareVersions } from './versions.ts';

export interface RegistryOptions {
  readonly config: ModelsConfig;
  readonly trustedKeys: readonly TrustedKey[];
  readonly store?: ModelStore;
  readonly log?: ModelLog;
  readonly openSession?: SessionOpener;
  readonly now?: () => number;
}

export type LoadOutcome =
  | { ok: true; model: string; previous: string | undefined; timings: LoadTimings }
  | { ok: false; model: string; stage: RejectStage; reason: string; serving: string | undefined };

export interface ModelStatus {
  readonly serving: string | undefined;
  readonly providers: readonly string[];
  readonly lastError: { model: string; stage: RejectStage; reason: string; atMs: number } | undefined;
}

/**
 * The device's models: one serving version per name, replaced only by a version that passed every check
 * (loader.ts), atomically. `run()` goes to the version serving when it is called and reports `name@version`;
 * a version swapped out finishes its in-flight runs before its session is released (serving.ts). Activations of
 * one name are serialised; a refusal leaves the serving version untouched and is recorded with its reason.
 */
export class ModelRegistry {
  private readonly serving = new Map<string, ServingModel>();
  private readonly lastError = new Map<string, ModelStatus['lastError']>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly store: ModelStore;
  private readonly log: ModelLog;
  private readonly open: SessionOpener;
  private readonly now: () => number;
  readonly dir: string;

  constructor(private readonly options: RegistryOptions) {
    this.store = options.store ?? new MemoryModelStore();
    this.log = options.log ?? silentLog;
    this.open = options.openSession ?? openSession;
    this.now = options.now ?? Date.now;
    this.dir = resolve(options.config.dir);
  }

  modelDir(name: string, version: string): string {
    return join(this.dir, name, version);
  }

  /** Model names with at least one version directory. */
  names(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((n) => !n.startsWith('.') && statSync(join(this.dir, n)).isDirectory())
      .sort();
  }

  /** Version directories of `name`, oldest first. */
  versions(name: string): string[] {
    const dir = join(this.dir, name);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((v) => !v.startsWith('.') && existsSync(join(dir, v, 'manifest.json')))
      .sort(compareVersions);
  }

  /** The version that serves `name`: recorded as active in the store, else the newest present. */
  preferredVersion(name: string): string | undefined {
    return this.store.activeVersion(name) ?? this.versions(name).at(-1);
  }

  /** Loads every model's preferred version; a model that fails is reported and left unloaded. */
  async start(names = this.names()): Promise<LoadOutcome[]> {
    const outcomes: LoadOutcome[] = [];
    for (const name of names) {
      const version = this.preferredVersion(name);
      if (version !== undefined) outcomes.push(await this.activate(name, version));
    }
    return outcomes;
  }

  /** Serve `name@version` after it passes every check; otherwise keep serving what was there. */
  activate(name: string, version: string, kind: 'activate' | 'rollback' = 'activate'): Promise<LoadOutcome> {
    return this.serialise(name, () => this.swapIn(name, version, kind));
  }

  /** Back to the version that was active before the current one (see store.activationStack). */
  rollback(name: string): Promise<LoadOutcome> {
    return this.serialise(name, async () => {
      const target = activationStack(this.store.history(name)).at(-2);
      if (target !== undefined) return this.swapIn(name, target, 'rollback');
      const reason = `no earlier activation of ${name} to roll back to`;
      return { ok: false, model: name, stage: 'rollback', reason, serving: this.serving.get(name)?.id } as const;
    });
  }

  /**
   * Verifies and trial-loads the model in `src`, then copies it into the models directory (install.ts). Throws
   * ModelRejectedError, after recording the refusal.
   */
  async install(src: string): Promise<InstallResult> {
    try {
      return await installModel(src, { ...this.loaderDeps(), dir: this.dir, store: this.store, now: this.now });
    } catch (error) {
      // A model whose manifest could not be read has no name to file the refusal under; the caller reports it.
      const [name, version] = error instanceof ModelRejectedError ? error.model.split('@') : [];
      if (error instanceof ModelRejectedError && name && version) {
        this.store.recordReject(name, version, `${error.stage}: ${error.reason}`, this.now());
      }
      throw error;
    }
  }

  /** Runs `name`'s serving version. Throws when no version of `name` is serving. */
  run(name: string, feeds: ort.InferenceSession.FeedsType): Promise<InferenceResult> {
    const model = this.serving.get(name);
    if (!model) return Promise.reject(new Error(`no model ${name} is serving`));
    return model.run(feeds);
  }

  servingModel(name: string): ServingModel | undefined {
    return this.serving.get(name);
  }

  status(): Record<string, ModelStatus> {
    const names = new Set([...this.serving.keys(), ...this.lastError.keys()]);
    return Object.fromEntries(
      [...names].sort().map((n) => {
        const m = this.serving.get(n);
        return [n, { serving: m?.id, providers: m?.providers ?? [], lastError: this.lastError.get(n) }];
      }),
    );
  }

  history(name?: string): ModelEvent[] {
    return this.store.history(name);
  }

  /** `name@version` of every serving model, for run summaries and records. */
  inUse(): string[] {
    return [...this.serving.values()].map((m) => m.id).sort();
  }

  async close(): Promise<void> {
    const all = [...this.serving.values()];
    this.serving.clear();
    await Promise.all(all.map((m) => m.retire()));
  }

  private async swapIn(name: string, version: string, kind: 'activate' | 'rollback'): Promise<LoadOutcome> {
    const current = this.serving.get(name);
    const id = `${name}@${version}`;
    if (!MODEL_NAME.test(name) || !MODEL_VERSION.test(version)) {
      // Both become path components: refuse before touching the filesystem.
      return {
        ok: false,
        model: id,
        stage: 'manifest',
        reason: 'not a valid model name or version',
        serving: current?.id,
      };
    }
    if (current?.version === version) {
      const zero = { verifyMs: 0, sessionMs: 0, ioMs: 0, warmupMs: 0, swapMs: 0 };
      return { ok: true, model: id, previous: undefined, timings: zero };
    }
    try {
      const prepared = await prepareModel(this.modelDir(name, version), this.loaderDeps(), { name, version });
      const t0 = performance.now();
      this.serving.set(name, prepared.model);
      const active = this.store.activeVersion(name);
      if (active !== version) this.store.setActive(name, version, kind, active ?? null, this.now());
      prepared.timings.swapMs = performance.now() - t0;
      this.lastError.delete(name);
      this.log.info(
        { model: id, previous: current?.id, providers: prepared.model.providers, ...prepared.timings },
        'model serving',
      );
      // The old version drains in the background; new runs already go to the new one.
      if (current) void current.retire();
      return { ok: true, model: id, previous: current?.id, timings: prepared.timings };
    } catch (error) {
      const rejected =
        error instanceof ModelRejectedError ? error : new ModelRejectedError('session', id, messageOf(error));
      this.lastError.set(name, { model: id, stage: rejected.stage, reason: rejected.reason, atMs: this.now() });
      this.store.recordReject(name, version, `${rejected.stage}: ${rejected.reason}`, this.now());
      this.log.warn({ model: id, stage: rejected.stage, serving: current?.id }, rejected.message);
      return { ok: false, model: id, stage: rejected.stage, reason: rejected.reason, serving: current?.id };
    }
  }

  private loaderDeps(): LoaderDeps {
    return {
      config: this.options.config,
      trustedKeys: this.options.trustedKeys,
      openSession: this.open,
      log: this.log,
    };
  }

  private serialise<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(name) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    this.queues.set(
      name,
      next.catch(() => {}),
    );
    return next;
  }
}
