import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { glance, ROOT, SAMPLE, tmp } from '../helpers/cli.ts';

interface Summary {
  sessionId: string;
  records: Record<string, number>;
  stages: Record<string, { count: number }>;
  errors: { count: number; first: string[] };
  models: string[];
}

interface Truth {
  t0Ns: number;
  scene: { tUs: number[]; gazeX: number[]; gazeY: number[] };
}

function runWith(detector: object, dir: string): { summary: Summary; db: string } {
  const config = join(dir, 'glance.json');
  const db = join(dir, 'g.db');
  const summaryFile = join(dir, 'summary.json');
  const models = { dir: join(ROOT, 'models/zoo'), trustedKeys: [join(ROOT, 'models/keys/dev.pub.pem')] };
  // Eye tracking alone: attention and snippets are another suite's subject (memx.test.ts).
  const off = { enabled: false };
  writeFileSync(
    config,
    JSON.stringify({ eyeTracking: { detector }, models, attention: off, snippets: off, device: { dataDir: dir } }),
  );
  const r = glance(['run', '--config', config, '--replay', SAMPLE, '--once', '--db', db, '--summary', summaryFile]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return { summary: JSON.parse(readFileSync(summaryFile, 'utf8')) as Summary, db };
}

describe('the daemon with the learnt pupil detector', () => {
  it('runs the zoo network on every eye frame and maps gaze close to the truth', () => {
    const { summary, db } = runWith({ type: 'cnn' }, tmp());
    expect(summary.errors).toEqual({ count: 0, first: [] });
    expect(summary.models).toContain('pupil@1.0.0');
    const eyeFrames = ['eye0', 'eye1'].map(
      (s) =>
        readFileSync(join(SAMPLE, `${s}.ts`), 'utf8')
          .trim()
          .split('\n').length,
    );
    expect(summary.stages.pupil?.count).toBe((eyeFrames[0] ?? 0) + (eyeFrames[1] ?? 0));
    expect(summary.records.gaze_samples).toBeGreaterThan(0.8 * (eyeFrames[0] ?? 0));
    expect(summary.records.fixations).toBeGreaterThan(0);

    // Gaze after the calibration segment, against the sample's true gaze at the nearest scene frame.
    const truth = JSON.parse(readFileSync(join(SAMPLE, 'groundtruth.json'), 'utf8')) as Truth;
    const t0 = BigInt(truth.t0Ns);
    const scene = truth.scene;
    const sqlite = new Database(db, { readonly: true });
    const rows = sqlite
      .prepare('SELECT t_ns AS t, x, y FROM gaze_samples WHERE session_id = ?')
      .safeIntegers(true)
      .all(summary.sessionId) as { t: bigint; x: number; y: number }[];
    sqlite.close();
    const errors: number[] = [];
    let j = 0;
    for (const r of rows) {
      const tUs = Number((r.t - t0) / 1000n);
      if (tUs < 13_500_000) continue;
      while (j + 1 < scene.tUs.length && (scene.tUs[j + 1] ?? 0) <= tUs) j++;
      errors.push(Math.hypot(Number(r.x) - (scene.gazeX[j] ?? 0), Number(r.y) - (scene.gazeY[j] ?? 0)));
    }
    errors.sort((a, b) => a - b);
    const median = errors[Math.floor(errors.length / 2)] ?? Number.POSITIVE_INFINITY;
    // 520 px focal length: 30 px is about 3.3°. Measured: 20 px (2.2°) with the learnt detector, 2.8 px (0.3°) with
    // the classical one through this same comparison — the network's sub-pixel pupil error grows through the mapping.
    expect(errors.length).toBeGreaterThan(1000);
    expect(median).toBeLessThan(30);
  }, 300_000);
});
