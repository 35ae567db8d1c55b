/**
 * Where the registry keeps what is installed, what is active, and the history of every install, activation,
 * rollback and refusal. SQLite on the device (storage/models.ts); in memory for tools and tests. Both pass the
 * same contract suite (test/models/store.test.ts).
 */
export type ModelEventKind = 'install' | 'activate' | 'rollback' | 'reject';

export interface InstalledModel {
  readonly name: string;
  readonly version: string;
  readonly dir: string;
  readonly sha256: string;
  readonly keyId: string;
  readonly installedMs: number;
}

export interface ModelEvent {
  readonly name: string;
  readonly version: string;
  readonly kind: ModelEventKind;
  readonly fromVersion: string | null;
  readonly reason: string | null;
  readonly atMs: number;
}

export interface ModelStore {
  recordInstall(model: InstalledModel): void;
  /** Marks `version` active for `name` and records the activation or rollback, atomically. */
  setActive(
    name: string,
    version: string,
    kind: 'activate' | 'rollback',
    fromVersion: string | null,
    atMs: number,
  ): void;
  recordReject(name: string, version: string, reason: string, atMs: number): void;
  activeVersion(name: string): string | undefined;
  installed(): InstalledModel[];
  /** Oldest first; all models when `name` is omitted. */
  history(name?: string): ModelEvent[];
}

/**
 * The versions a rollback walks back through: each activation pushes a version, each rollback pops one, so
 * rolling back twice after two upgrades returns to the first version rather than bouncing between the last two.
 */
export function activationStack(events: readonly ModelEvent[]): string[] {
  const stack: string[] = [];
  for (const e of events) {
    if (e.kind === 'activate') stack.push(e.version);
    else if (e.kind === 'rollback') stack.pop();
  }
  return stack;
}

export class MemoryModelStore implements ModelStore {
  private readonly models = new Map<string, InstalledModel>();
  private readonly active = new Map<string, string>();
  private readonly events: ModelEvent[] = [];

  recordInstall(model: InstalledModel): void {
    this.models.set(`${model.name}@${model.version}`, model);
    this.events.push({
      name: model.name,
      version: model.version,
      kind: 'install',
      fromVersion: null,
      reason: null,
      atMs: model.installedMs,
    });
  }

  setActive(
    name: string,
    version: string,
    kind: 'activate' | 'rollback',
    fromVersion: string | null,
    atMs: number,
  ): void {
    this.active.set(name, version);
    this.events.push({ name, version, kind, fromVersion, reason: null, atMs });
  }

  recordReject(name: string, version: string, reason: string, atMs: number): void {
    this.events.push({ name, version, kind: 'reject', fromVersion: null, reason, atMs });
  }

  activeVersion(name: string): string | undefined {
    return this.active.get(name);
  }

  installed(): InstalledModel[] {
    return [...this.models.values()];
  }

  history(name?: string): ModelEvent[] {
    return this.events.filter((e) => name === undefined || e.name === name);
  }
}
