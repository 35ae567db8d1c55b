import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pythonExecutable, TRAIN_DIR } from '../../device/commands/train.ts';
import { type LabelCandidate, LabelQueue } from '../../pipelines/labels/label-queue.ts';
import { NumpyRandom } from '../../pipelines/labels/numpy-random.ts';
import { REXP4_DEFAULTS } from '../../pipelines/labels/rexp4.ts';

interface ScenarioCandidate extends LabelCandidate {
  readonly truth: number;
}
interface Round {
  readonly candidates: ScenarioCandidate[];
  readonly k: number;
}
interface Replayed {
  readonly picks: { id: string; probability: number }[];
  readonly rewards: number[];
  readonly weights: number[];
}

/** Fixed inputs from a tiny LCG (not the generator under test), so both implementations see the same numbers. */
function scenario(): { seed: number; config: Record<string, unknown>; rounds: Round[] } {
  let s = 12345;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
  const simplex = (c: number) => {
    const raw = Array.from({ length: c }, () => next() ** 3 + 1e-3);
    const total = raw.reduce((a, b) => a + b, 0);
    return raw.map((v) => v / total);
  };
  const rounds: Round[] = [];
  for (let r = 0; r < 7; r++) {
    const n = 20 + r * 3; // the pool grows as memories accumulate
    const candidates = Array.from({ length: n }, (_, i) => ({
      kind: 'snippet',
      id: `s${r}-${i}`,
      probabilities: simplex(3),
      committee: [simplex(3), simplex(3)],
      embedding: [next(), next(), next(), next()],
      truth: Math.floor(next() * 3),
    }));
    rounds.push({ candidates, k: 1 + (r % 3) });
  }
  return { seed: 7, config: { restart: 3, gamma: 0.3, eta: 3, advice_scale: 4 }, rounds };
}

describe('the device REXP4 queue against the toolchain original', () => {
  it('numpy-compatible generator: the same raw outputs, doubles and choices as default_rng', () => {
    const code = `import json, numpy as np
g = np.random.default_rng(2026)
print(json.dumps([str(g.bit_generator.random_raw()), g.random(), int(g.choice(5, p=[.1,.3,.2,.25,.15]))]))`;
    const py = spawnSync(pythonExecutable(), ['-c', code], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const rng = new NumpyRandom(2026);
    expect([rng.nextUint64().toString(), rng.random(), rng.choice([0.1, 0.3, 0.2, 0.25, 0.15])]).toEqual(
      JSON.parse(py.stdout),
    );
  });

  it("uses the toolchain's validated REXP4 defaults", () => {
    // Rexp4Config's defaults are chosen on validation sessions (glance_train.active.tune); the device must not drift.
    const code = `import json, dataclasses
from glance_train.active.rexp4 import Rexp4Config
print(json.dumps(dataclasses.asdict(Rexp4Config())))`;
    const py = spawnSync(pythonExecutable(), ['-c', code], {
      encoding: 'utf8',
      env: { ...process.env, PYTHONPATH: join(TRAIN_DIR) },
    });
    expect(py.status, py.stderr).toBe(0);
    const toolchain = JSON.parse(py.stdout) as Record<string, number>;
    expect(REXP4_DEFAULTS).toEqual({
      gamma: toolchain.gamma,
      restart: toolchain.restart,
      eta: toolchain.eta,
      adviceScale: toolchain.advice_scale,
    });
  });

  it('picks the same records with the same probabilities and ends with the same weights', () => {
    const input = scenario();
    const py = spawnSync(pythonExecutable(), ['-m', 'glance_train.active.replay'], {
      input: JSON.stringify(input),
      encoding: 'utf8',
      env: { ...process.env, PYTHONPATH: join(TRAIN_DIR) },
    });
    expect(py.status, py.stderr).toBe(0);
    const expected = JSON.parse(py.stdout) as Replayed[];

    const queue = new LabelQueue(
      {
        criteria: ['uncertainty', 'margin', 'entropy', 'qbc', 'density', 'random'],
        bandit: { gamma: 0.3, restart: 3, eta: 3, adviceScale: 4 },
      },
      input.seed,
    );
    const actual: Replayed[] = input.rounds.map((round) => {
      const picks = queue.pick(round.candidates, round.k);
      const rewards = picks.map((p) =>
        queue.answer(`snippet:${p.candidate.id}`, (p.candidate as ScenarioCandidate).truth),
      );
      queue.endRound();
      return {
        picks: picks.map((p) => ({ id: p.candidate.id, probability: p.probability })),
        rewards,
        weights: queue.bandit.weights,
      };
    });
    expect(actual.map((r) => r.picks.map((p) => p.id))).toEqual(expected.map((r) => r.picks.map((p) => p.id)));
    for (const [i, r] of actual.entries()) {
      const e = expected[i] as Replayed;
      for (const [j, p] of r.picks.entries()) {
        expect(p.probability).toBeCloseTo((e.picks[j] as Replayed['picks'][0]).probability, 12);
      }
      for (const [j, v] of r.rewards.entries()) expect(v).toBeCloseTo(e.rewards[j] as number, 12);
      for (const [j, w] of r.weights.entries()) expect(w).toBeCloseTo(e.weights[j] as number, 10);
    }
    // The scenario exercises learning and the restart: weights moved off uniform, and round 3 reset them.
    expect(Math.max(...(expected[1] as Replayed).weights)).toBeGreaterThan(1 / 6 + 1e-3);
    expect((expected[2] as Replayed).weights.every((w) => Math.abs(w - 1 / 6) < 1e-12)).toBe(true);
  });
});
