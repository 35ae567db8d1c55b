import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../device/config.ts';
import { EpisodeDetector } from '../../../pipelines/emotion/episodes.ts';
import { neutralPriorShares, reweight } from '../../../pipelines/emotion/prior.ts';
import { openDatabase } from '../../../storage/db.ts';
import { EmotionshipRepository, type EmotionshipRow } from '../../../storage/emotionship.ts';
import { SessionRepository } from '../../../storage/sessions.ts';

function db() {
  const d = openDatabase(join(mkdtempSync(join(tmpdir(), 'glance-emo-')), 'e.db'));
  new SessionRepository(d).start({ id: 's1', device: 'd', source: 'test', startedWallMs: 1, startedTNs: 1n });
  return d;
}

function snippet(d: ReturnType<typeof db>, id: string, start: bigint, end: bigint) {
  d.prepare(
    `INSERT INTO snippets (id, session_id, start_t_ns, end_t_ns, start_wall_ms, frames, width, height, path, thumb_path,
       sidecar_path, bytes, sha256, score, trigger, created_ms)
     VALUES (?, 's1', ?, ?, 0, 10, 320, 240, 'a.mp4', 'a.jpg', 'a.json', 1, 'x', 0.5, 'emotion', 0)`,
  ).run(id, start, end);
}

const row = (id: string, onset: bigint): EmotionshipRow => ({
  id,
  sessionId: 's1',
  emotion: 'happy',
  confidence: 0.8,
  onsetTNs: onset,
  peakTNs: onset + 1n,
  offsetTNs: onset + 2n,
  cause: { label: 'ball', score: 0.7, region: { x: 1, y: 2, w: 3, h: 4 }, source: 'model' },
  model: 'emotion-ship@1.0.0',
  head: null,
  embedding: Float32Array.from([1, 2]),
  logits: Float32Array.from([0.5, -0.5]),
});

describe('emotionship storage', () => {
  it('writes a record with its outbox row, linked to the snippet covering its onset or to none', () => {
    const d = db();
    snippet(d, 'snip-1', 1000n, 5000n);
    const repo = new EmotionshipRepository(d);
    expect(repo.add(row('r1', 2000n))).toBe('snip-1');
    expect(repo.add(row('r2', 9000n))).toBeNull();
    const outbox = d.prepare("SELECT record_id, payload FROM outbox WHERE kind = 'emotionship' ORDER BY id").all() as {
      record_id: string;
      payload: string;
    }[];
    expect(outbox.map((o) => o.record_id)).toEqual(['r1', 'r2']);
    const payload = JSON.parse(outbox[0]?.payload ?? '{}');
    expect(payload).toMatchObject({
      schema: 'emotionship.v1',
      emotion: 'happy',
      snippetId: 'snip-1',
      model: 'emotion-ship@1.0.0',
    });
    expect(repo.features(['r1']).get('r1')?.embedding).toEqual(Float32Array.from([1, 2]));
    // an evicted snippet unlinks the record rather than leaving it dangling
    d.prepare("DELETE FROM snippets WHERE id = 'snip-1'").run();
    expect(repo.list('s1').map((r) => r.snippetId)).toEqual([null, null]);
  });

  it('writes neither the record nor its outbox row when the record is bad', () => {
    const d = db();
    const repo = new EmotionshipRepository(d);
    expect(() => repo.add({ ...row('bad', 10n), offsetTNs: 0n })).toThrow(/CHECK/);
    expect(d.prepare('SELECT COUNT(*) FROM outbox').pluck().get()).toBe(0);
    expect(d.prepare('SELECT COUNT(*) FROM emotionship').pluck().get()).toBe(0);
  });
});

describe('episode hysteresis', () => {
  const probs = (p: number) => [1 - p, p, 0, 0, 0, 0, 0];

  it('opens after minSteps above onset, ignores a dip between the thresholds, closes after minSteps below offset', () => {
    const det = new EpisodeDetector<number>({ onset: 0.6, offset: 0.3, minSteps: 2 });
    const seq = [0.1, 0.7, 0.8, 0.5, 0.9, 0.4, 0.2, 0.1, 0.1];
    const events = seq.map((p, i) => det.push(BigInt(i), probs(p), () => i));
    expect(events[1]).toBeNull();
    expect(events[2]).toMatchObject({ kind: 'onset', emotion: 1, tNs: 1n });
    expect(events.slice(3, 7).every((e) => e === null)).toBe(true); // 0.5 and 0.4 sit between the thresholds
    expect(events[7]).toMatchObject({ kind: 'end', episode: { onsetTNs: 1n, offsetTNs: 6n, atPeak: 4 } });
    expect(det.active).toBe(false);
  });

  it('never opens on neutral, and a single spike is not an episode', () => {
    const det = new EpisodeDetector<null>({ onset: 0.6, offset: 0.3, minSteps: 2 });
    expect(det.push(0n, [0.95, 0.01, 0, 0, 0, 0, 0.04], () => null)).toBeNull();
    expect(det.push(1n, [0.95, 0.01, 0, 0, 0, 0, 0.04], () => null)).toBeNull();
    expect(det.push(2n, probs(0.9), () => null)).toBeNull();
    expect(det.push(3n, probs(0.1), () => null)).toBeNull();
    expect(det.flush(4n)).toBeNull();
  });
});

describe('class prior', () => {
  it('moves probability towards neutral as its prior grows, keeps the order of the other classes, sums to 1', () => {
    const trained = [0.25, 0.125, 0.125, 0.125, 0.125, 0.125, 0.125];
    const probs = [0.3, 0.6, 0.05, 0.05, 0, 0, 0];
    const same = reweight(probs, trained, trained);
    for (const [c, p] of probs.entries()) expect(same[c]).toBeCloseTo(p, 6);
    const calm = reweight(probs, trained, neutralPriorShares(7, 0, 0.5));
    expect(calm.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    // neutral's odds against each emotion grow by (0.5 / 0.25) / ((0.5 / 6) / 0.125) = 3
    expect((calm[0] ?? 0) / (calm[1] ?? 1)).toBeCloseTo((3 * 0.3) / 0.6, 5);
    expect(calm[1]).toBeLessThan(0.6);
    expect(calm[2]).toBeCloseTo(calm[3] ?? 0, 6);
  });
});

describe('emotion config', () => {
  it('has working defaults and names bad values', () => {
    expect(parseConfig({}).emotion).toMatchObject({
      enabled: false, // off until it stops reading the sample's pupil swings as fear (README)
      model: 'emotion-ship',
      rateHz: 2,
      neutralPrior: 0.5,
    });
    expect(parseConfig({ emotion: { neutralPrior: null } }).emotion.neutralPrior).toBeNull();
    expect(() => parseConfig({ emotion: { neutralPrior: 1 } })).toThrow(/emotion.neutralPrior/);
    expect(() => parseConfig({ emotion: { rateHz: 100 } })).toThrow(/emotion.rateHz/);
    expect(() => parseConfig({ emotion: { onsetProbability: 0.2 } })).toThrow(/offsetProbability must not exceed/);
  });
});
