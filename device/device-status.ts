import { statSync } from 'node:fs';
import type { CaptureState } from '../pipelines/snippets/capture-state.ts';
import type { Db } from '../storage/db.ts';
import { freeSpace } from '../storage/retention.ts';
import type { DeviceStatus } from '../sync/index.ts';

export interface StatusSources {
  readonly db: Db;
  readonly dbFile: string;
  readonly dataDir: string;
  readonly capture: CaptureState;
  readonly models: () => Record<string, string>;
}

/** What the phone sees of the device (the retained `status`): capture, battery, storage, models in use. */
export function deviceStatusProvider(sources: StatusSources): () => DeviceStatus {
  const lastBattery = sources.db
    .prepare("SELECT payload FROM telemetry WHERE kind = 'battery' ORDER BY t_ns DESC LIMIT 1")
    .pluck();
  return () => {
    const capture = sources.capture.status();
    const battery = lastBattery.get() as string | undefined;
    const parsed = battery ? (JSON.parse(battery) as { percent: number; charging: boolean }) : undefined;
    return {
      capture: capture.mode === 'paused' ? 'paused' : capture.blockedBy ? 'stopped' : 'running',
      ...(parsed ? { battery: { percent: parsed.percent, charging: Boolean(parsed.charging) } } : {}),
      storage: { freeBytes: freeSpace(sources.dataDir), usedBytes: statSync(sources.dbFile).size },
      models: sources.models(),
    };
  };
}
