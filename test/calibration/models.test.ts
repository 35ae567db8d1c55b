import { describe, expect, it } from 'vitest';
import { eyeTrackingConfigSchema } from '../../calibration/config.ts';
import { BlinkDetector } from '../../calibration/events/blink-detector.ts';
import { FixationDetector } from '../../calibration/events/fixation-detector.ts';
import { type GazePair, Gazer2D } from '../../calibration/gaze/gazer.ts';
import { PolynomialRegression } from '../../calibration/gaze/polynomial-regression.ts';
import { SceneCamera } from '../../calibration/intrinsics/scene-camera.ts';
import { conicToEllipse, fitConic } from '../../calibration/pupil/ellipse-fit.ts';

const SCENE = { cameraMatrix: [520, 0, 321.5, 0, 520, 238.5, 0, 0, 1], distCoeffs: [0, 0, 0, 0, 0] };

describe('polynomial gaze regression', () => {
  const truth = (x: number, y: number) => ({
    x: 3 + 2 * x - y + 0.5 * x * y + 0.2 * x * x - 0.3 * y * y + 0.1 * x * x * y * y,
    y: -1 + x + 4 * y,
  });
  const grid = [] as number[][];
  for (let i = -1; i <= 1; i += 0.25) for (let j = -1; j <= 1; j += 0.25) grid.push([i, j]);

  it('recovers the 7 Pupil Core terms exactly and round-trips through its parameters', () => {
    const fit = PolynomialRegression.fit(
      grid,
      grid.map(([x, y]) => truth(x as number, y as number)),
      'full',
      1,
    );
    expect(fit?.rejected).toBe(0);
    expect(fit?.rmsPx).toBeLessThan(1e-6);
    const params = fit?.model.params();
    if (params === undefined) throw new Error('no fit');
    const again = PolynomialRegression.fromParams(params);
    expect(again.predict([0.3, -0.7]).x).toBeCloseTo(truth(0.3, -0.7).x, 6);
  });

  it('drops outliers in one refit', () => {
    const targets = grid.map(([x, y], i) => {
      const t = truth(x as number, y as number);
      return i % 20 === 0 ? { x: t.x + 50, y: t.y } : t; // a glance away from the target
    });
    const fit = PolynomialRegression.fit(grid, targets, 'full', 20);
    expect(fit?.rejected).toBe(Math.ceil(grid.length / 20));
    expect(fit?.rmsPx).toBeLessThan(1e-6);
  });

  it('refuses to fit what the samples cannot determine', () => {
    expect(
      PolynomialRegression.fit(
        [
          [0, 0],
          [1, 1],
        ],
        [
          { x: 0, y: 0 },
          { x: 1, y: 1 },
        ],
        'full',
        5,
      ),
    ).toBeNull();
  });
});

describe('2D gazer', () => {
  const scene = new SceneCamera(SCENE);
  const pairs: GazePair[] = [];
  for (let gx = 40; gx <= 600; gx += 70) {
    for (let gy = 40; gy <= 440; gy += 50) {
      const r = scene.ray(gx, gy);
      pairs.push({
        ref: { x: gx, y: gy },
        eye0: { x: 96 + 60 * r[0], y: 100 + 55 * r[1], width: 192, height: 192 },
        eye1: { x: 90 + 58 * r[0], y: 104 + 57 * r[1], width: 192, height: 192 },
      });
    }
  }
  const normalisers = {
    eye0: { kind: 'image', width: 192, height: 192 },
    eye1: { kind: 'image', width: 192, height: 192 },
  } as const;

  it('fits both eyes, averages them binocularly, and predicts from its stored parameters alone', () => {
    const fitted = Gazer2D.fit(pairs, {
      degree: 'full',
      binocularRegression: false,
      outlierDeg: 3,
      normalisers,
      scene: SCENE,
    });
    expect(fitted?.report.eye0?.rmsDeg).toBeLessThan(0.05);
    const restored = Gazer2D.fromParams(JSON.parse(JSON.stringify(fitted?.gazer.params())));
    const p = pairs[17] as GazePair;
    const both = restored.predict(p.eye0, p.eye1);
    expect(both?.source).toBe('binocular');
    expect(scene.angleDeg(both?.point.x ?? 0, both?.point.y ?? 0, p.ref.x, p.ref.y)).toBeLessThan(0.1);
    expect(restored.predict(undefined, p.eye1)?.source).toBe('eye1');
    expect(restored.predict()).toBeNull();
  });

  it('rejects parameters of an unknown kind', () => {
    // Stored JSON is only typed by what wrote it: a mapping of another kind must be refused, not misread.
    const foreign = JSON.parse('{"kind":"polynomial-3d","version":9}') as Parameters<typeof Gazer2D.fromParams>[0];
    expect(() => Gazer2D.fromParams(foreign)).toThrow(/unknown gaze mapping/);
  });
});

describe('scene camera', () => {
  it('turns pixels into rays and back, with lens distortion', () => {
    const cam = new SceneCamera({
      cameraMatrix: [536, 0, 342, 0, 536, 235, 0, 0, 1],
      distCoeffs: [-0.265, -0.047, 0.0018, -0.0003, 0.252],
    });
    for (const [x, y] of [
      [342, 235],
      [10, 20],
      [630, 470],
      [100, 400],
    ] as const) {
      const back = cam.project(cam.ray(x, y));
      expect(back?.x).toBeCloseTo(x, 2);
      expect(back?.y).toBeCloseTo(y, 2);
    }
    expect(new SceneCamera(SCENE).angleDeg(321.5, 238.5, 321.5 + 520, 238.5)).toBeCloseTo(45, 6);
    expect(() => new SceneCamera({ cameraMatrix: [0, 0, 0], distCoeffs: [] })).toThrow(/camera matrix/);
  });
});

describe('ellipse fit', () => {
  it('recovers centre, axes and angle from points on an arc', () => {
    const xs = new Float64Array(30);
    const ys = new Float64Array(30);
    const t = (31 * Math.PI) / 180;
    for (let i = 0; i < 30; i++) {
      const u = (i / 30) * 1.4 * Math.PI; // 70% of the outline: a lid hides the rest
      const [a, b] = [12 * Math.cos(u), 9 * Math.sin(u)];
      xs[i] = 100 + a * Math.cos(t) - b * Math.sin(t);
      ys[i] = 90 + a * Math.sin(t) + b * Math.cos(t);
    }
    const q = fitConic(xs, ys, 30);
    const e = q && conicToEllipse(q);
    expect(e).toMatchObject({
      cx: expect.closeTo(100, 6),
      cy: expect.closeTo(90, 6),
      major: expect.closeTo(24, 6),
      minor: expect.closeTo(18, 6),
      angleDeg: expect.closeTo(31, 4),
    });
  });
});

describe('I-DT fixations', () => {
  const scene = new SceneCamera(SCENE);
  const params = { maxDispersionDeg: 1.5, minDurationMs: 80, maxDurationMs: 220, maxGapMs: 100 };
  const stream = (points: [number, number, number][]) =>
    points.map(([ms, x, y]) => ({ tNs: BigInt(ms) * 1_000_000n, x, y, confidence: 0.9 }));

  it('finds a fixation, cuts it at the maximum duration, and ignores a saccade', () => {
    const d = new FixationDetector(scene, params);
    const samples: [number, number, number][] = [];
    for (let ms = 0; ms < 500; ms += 4) samples.push([ms, 300 + (ms % 3), 200]); // 500 ms still
    for (let ms = 500; ms < 540; ms += 4) samples.push([ms, 300 + (ms - 500) * 8, 200]); // saccade
    for (let ms = 540; ms < 640; ms += 4) samples.push([ms, 620, 200]); // 100 ms on the new target
    const out = stream(samples)
      .map((s) => d.push(s))
      .filter((f) => f !== null);
    const last = d.flush();
    const all = [...out, ...(last ? [last] : [])];
    expect(all.map((f) => Number(f.endTNs - f.startTNs) / 1e6)).toEqual([220, 220, 96]);
    expect(all[2]?.x).toBeCloseTo(620, 6);
    for (const f of all) expect(f.dispersionDeg).toBeLessThanOrEqual(1.5);
  });

  it('a gap in the gaze (a blink) ends the fixation', () => {
    const d = new FixationDetector(scene, { ...params, maxDurationMs: 10_000 });
    const pts = stream([
      ...Array.from({ length: 30 }, (_, i) => [i * 4, 300, 200] as [number, number, number]),
      [400, 300, 200],
      [404, 300, 200],
    ]);
    const done = pts.map((p) => d.push(p)).filter((f) => f !== null);
    expect(done).toHaveLength(1);
    expect(Number((done[0]?.endTNs ?? 0n) / 1_000_000n)).toBe(116);
  });
});

describe('blinks', () => {
  const params = { onsetConfidence: 0.3, offsetConfidence: 0.6, minDurationMs: 30, maxDurationMs: 700 };
  const run = (conf: (eye: 'eye0' | 'eye1', ms: number) => number) => {
    const d = new BlinkDetector(params, new Set(['eye0', 'eye1'] as const));
    const out = [];
    for (let ms = 0; ms < 2000; ms += 4) {
      for (const eye of ['eye0', 'eye1'] as const) {
        const b = d.push(eye, BigInt(ms + (eye === 'eye1' ? 2 : 0)) * 1_000_000n, conf(eye, ms));
        if (b) out.push(b);
      }
    }
    return out;
  };

  it('both eyes closing together is a blink; one eye losing its pupil is not; a long closure is not', () => {
    expect(run((_, ms) => (ms >= 500 && ms < 620 ? 0.05 : 0.95))).toHaveLength(1);
    expect(run((eye, ms) => (eye === 'eye0' && ms >= 500 && ms < 620 ? 0.05 : 0.95))).toHaveLength(0);
    expect(run((_, ms) => (ms >= 500 && ms < 1500 ? 0.05 : 0.95))).toHaveLength(0);
  });
});

describe('config section', () => {
  it('has defaults, describes its fields, and rejects unknown keys', () => {
    const c = eyeTrackingConfigSchema.parse({});
    expect(c.fixations).toEqual({ maxDispersionDeg: 1.5, minDurationMs: 80, maxDurationMs: 220, maxGapMs: 100 });
    expect(c.detector.type).toBe('dark-pupil');
    expect(eyeTrackingConfigSchema.safeParse({ fixations: { maxDispersion: 2 } }).success).toBe(false);
    expect(eyeTrackingConfigSchema.safeParse({ detector: { type: 'hough' } }).success).toBe(false);
    expect(eyeTrackingConfigSchema.parse({ fixations: { maxDurationMs: 2000 } }).fixations.maxDurationMs).toBe(2000);
    expect(eyeTrackingConfigSchema.shape.slippage.description).toMatch(/slippage/);
  });
});
