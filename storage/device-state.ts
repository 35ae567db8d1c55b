import type { Db } from './db.ts';

/** Durable key/value facts of the device, e.g. whether the wearer paused capture. */
export class DeviceState {
  constructor(private readonly db: Db) {}

  get(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM device_state WHERE key = ?').get(key) as
      | { value: string }
      | undefined;
    return row?.value;
  }

  set(key: string, value: string, nowMs = Date.now()): void {
    this.db
      .prepare(
        `INSERT INTO device_state (key, value, updated_ms) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms`,
      )
      .run(key, value, nowMs);
  }
}
