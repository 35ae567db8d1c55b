import type { Db } from '../../storage/db.ts';

/** Scene frames between two reads of the telemetry table (a battery level changes over minutes, not frames). */
const READ_EVERY = 30;

/**
 * The battery level in [0, 1] the serial peripherals last reported for this session (the `battery` telemetry
 * rows the daemon stores: `{ percent, millivolts, charging }`), or undefined when none has been stored yet (the
 * policy then assumes its documented default). Rows reach the table in batches, so the level may lag by a batch.
 */
export function telemetryBattery(db: Db, sessionId: string): () => number | undefined {
  const last = db
    .prepare("SELECT payload FROM telemetry WHERE session_id = ? AND kind = 'battery' ORDER BY t_ns DESC LIMIT 1")
    .pluck();
  let calls = 0;
  let level: number | undefined;
  return () => {
    if (calls++ % READ_EVERY === 0) {
      const payload = last.get(sessionId) as string | undefined;
      const percent = payload ? Number((JSON.parse(payload) as { percent?: unknown }).percent) : Number.NaN;
      if (Number.isFinite(percent)) level = Math.min(1, Math.max(0, percent / 100));
    }
    return level;
  };
}
