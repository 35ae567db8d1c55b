import type { Gazer2D } from '../gaze/gazer.ts';
import type { SceneCamera } from '../intrinsics/scene-camera.ts';
import type { TimedPair } from './pairing.ts';

export interface TargetValidation {
  readonly target: number;
  readonly samples: number;
  readonly accuracyDeg: number;
  readonly precisionDeg: number;
}

export interface ValidationReport {
  /** Mean angular distance between mapped gaze and the target, degrees (Pupil Core's accuracy). */
  readonly accuracyDeg: number;
  /** RMS of the angular distance between successive mapped samples on one target, degrees (its precision). */
  readonly precisionDeg: number;
  readonly samples: number;
  readonly perTarget: TargetValidation[];
}

/** Accuracy and precision of a gaze mapping on observations it was not fitted to. */
export function validate(gazer: Gazer2D, pairs: readonly TimedPair[], scene: SceneCamera): ValidationReport | null {
  const byTarget = new Map<number, { err: number[]; step: number[]; last: { x: number; y: number } | null }>();
  for (const p of pairs) {
    const g = gazer.predict(p.eye0, p.eye1);
    if (g === null) continue;
    const t = byTarget.get(p.target) ?? { err: [], step: [], last: null };
    t.err.push(scene.angleDeg(g.point.x, g.point.y, p.ref.x, p.ref.y));
    if (t.last !== null) t.step.push(scene.angleDeg(g.point.x, g.point.y, t.last.x, t.last.y));
    t.last = g.point;
    byTarget.set(p.target, t);
  }
  const perTarget: TargetValidation[] = [];
  const allErr: number[] = [];
  const allStep: number[] = [];
  for (const [target, t] of [...byTarget].sort((a, b) => a[0] - b[0])) {
    perTarget.push({ target, samples: t.err.length, accuracyDeg: mean(t.err), precisionDeg: rms(t.step) });
    allErr.push(...t.err);
    allStep.push(...t.step);
  }
  if (allErr.length === 0) return null;
  return { accuracyDeg: mean(allErr), precisionDeg: rms(allStep), samples: allErr.length, perTarget };
}

function mean(v: readonly number[]): number {
  return v.length === 0 ? Number.NaN : v.reduce((a, b) => a + b, 0) / v.length;
}

function rms(v: readonly number[]): number {
  return v.length === 0 ? Number.NaN : Math.sqrt(v.reduce((a, b) => a + b * b, 0) / v.length);
}
