import type { InstalledModel, ModelEvent, ModelEventKind, ModelStore } from '../models/store.ts';
import type { Db } from './db.ts';

interface ModelRow {
  name: string;
  version: string;
  dir: string;
  sha256: string;
  key_id: string;
  installed_ms: number;
}

interface EventRow {
  name: string;
  version: string;
  kind: ModelEventKind;
  from_version: string | null;
  reason: string | null;
  at_ms: number;
}

/**
 * The models registry's store in SQLite (migration 002): installed versions, the active one per name, and an
 * append-only history. An activation is one transaction, so the active flag and its history row never disagree.
 * A version activated without ever being installed (bundled with the image) gets a row with empty dir, sha256
 * and key id, so its active flag has a place; nothing unknown is invented.
 */
export class ModelRepository implements ModelStore {
  private readonly insertModel;
  private readonly insertEvent;
  private readonly clearActive;
  private readonly markActive;
  private readonly ensureRow;
  private readonly selectActive;
  private readonly selectInstalled;
  private readonly selectHistory;
  private readonly selectAllHistory;

  constructor(private readonly db: Db) {
    this.insertModel = db.prepare(
      `INSERT INTO models (name, version, dir, sha256, key_id, installed_ms) VALUES (@name, @version, @dir, @sha256, @keyId, @installedMs)
       ON CONFLICT (name, version) DO UPDATE SET dir = excluded.dir, sha256 = excluded.sha256,
         key_id = excluded.key_id, installed_ms = excluded.installed_ms`,
    );
    this.insertEvent = db.prepare(
      'INSERT INTO model_events (name, version, kind, from_version, reason, at_ms) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.clearActive = db.prepare('UPDATE models SET active = 0 WHERE name = ? AND active = 1');
    this.markActive = db.prepare('UPDATE models SET active = 1 WHERE name = ? AND version = ?');
    this.ensureRow = db.prepare(
      `INSERT INTO models (name, version, dir, sha256, key_id, installed_ms) VALUES (?, ?, '', '', '', ?)
       ON CONFLICT (name, version) DO NOTHING`,
    );
    this.selectActive = db.prepare('SELECT version FROM models WHERE name = ? AND active = 1');
    this.selectInstalled = db.prepare('SELECT * FROM models ORDER BY name, installed_ms');
    this.selectHistory = db.prepare('SELECT * FROM model_events WHERE name = ? ORDER BY id');
    this.selectAllHistory = db.prepare('SELECT * FROM model_events ORDER BY id');
  }

  recordInstall(model: InstalledModel): void {
    this.db.transaction(() => {
      this.insertModel.run(model);
      this.insertEvent.run(model.name, model.version, 'install', null, null, model.installedMs);
    })();
  }

  setActive(
    name: string,
    version: string,
    kind: 'activate' | 'rollback',
    fromVersion: string | null,
    atMs: number,
  ): void {
    this.db.transaction(() => {
      this.ensureRow.run(name, version, atMs);
      this.clearActive.run(name);
      this.markActive.run(name, version);
      this.insertEvent.run(name, version, kind, fromVersion, null, atMs);
    })();
  }

  recordReject(name: string, version: string, reason: string, atMs: number): void {
    this.insertEvent.run(name, version, 'reject', null, reason, atMs);
  }

  activeVersion(name: string): string | undefined {
    return (this.selectActive.get(name) as { version: string } | undefined)?.version;
  }

  installed(): InstalledModel[] {
    return (this.selectInstalled.all() as ModelRow[]).map((r) => ({
      name: r.name,
      version: r.version,
      dir: r.dir,
      sha256: r.sha256,
      keyId: r.key_id,
      installedMs: r.installed_ms,
    }));
  }

  history(name?: string): ModelEvent[] {
    const rows = (name === undefined ? this.selectAllHistory.all() : this.selectHistory.all(name)) as EventRow[];
    return rows.map((r) => ({
      name: r.name,
      version: r.version,
      kind: r.kind,
      fromVersion: r.from_version,
      reason: r.reason,
      atMs: r.at_ms,
    }));
  }
}
