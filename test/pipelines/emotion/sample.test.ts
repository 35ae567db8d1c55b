import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { replayOnce, SAMPLE, tmp } from '../../helpers/cli.ts';

/**
 * The bundled sample's wearer shows no emotion (its generator programs none; its pupil wanders by 4.7 ± 2.4 mm with
 * light and arousal), so every emotionship record there would be a false one. emotion-ship@1.1.0 wrote two weak
 * "fear" records here; 1.2.0 learnt from data version 3, whose wearers' pupils wander as this generator's do with no
 * emotion (docs/emotion.md). Nothing was tuned on this sample.
 */
describe('emotion stage on the bundled sample with the stage enabled and its defaults', () => {
  it('runs the emotion model and writes no emotionship record', () => {
    // Every section at its defaults; the emotion stage is off by default (docs/emotion.md), so it is switched on.
    const run = replayOnce(SAMPLE, tmp('glance-emo-sample-'), { emotion: { enabled: true } });
    expect(run.status, run.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(run.summary, 'utf8')) as { models: string[] };
    expect(summary.models.some((m) => m.startsWith('emotion-ship@'))).toBe(true);
    const db = new Database(run.db, { readonly: true });
    try {
      const rows = db.prepare('SELECT emotion, confidence, onset_t_ns FROM emotionship').all();
      expect(rows).toEqual([]);
      expect(db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'emotionship'").get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  }, 300_000);
});
