import type { Db } from './db.ts';

/** Durable key/value facts of the device, e.g. whether the wearer paused capture. */
export class DeviceState {
  private readonly select;
  private readonly upsert;

  constructor(db: Db) {
    this.select = db.prepare('SELECT value FROM device_state WHERE key = ?').pluck();
    this.upsert = db.prepare(
      `INSERT INTO device_state (key, value, updated_ms) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms`,
    );
  }

  get(key: string): string | undefined {
    return this.select.get(key) as string | undefined;
  }

  set(key: string, value: string, nowMs = Date.now()): void {
    this.upsert.run(key, value, nowMs);
  }
}
