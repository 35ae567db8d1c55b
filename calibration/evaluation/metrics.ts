import type { EyeId } from '../gaze/gazer.ts';
import type { SceneCamera } from '../intrinsics/scene-camera.ts';
import type { PupilSample } from '../session/pupil-sample.ts';
import { type SessionTruth, toUs } from './groundtruth.ts';

export interface PupilAccuracy {
  /** Frames with the pupil in view (not a blink, at least `minVisible` of it unoccluded). */
  readonly frames: number;
  /** Fraction of those the detector reported with confidence ≥ the threshold. */
  readonly detectionRate: number;
  readonly medianErrorPx: number;
  readonly p95ErrorPx: number;
}

/** Pupil-centre error of detections against the drawn ellipses, per eye frame in order. */
export function pupilAccuracy(
  samples: readonly PupilSample[],
  truth: SessionTruth,
  eye: EyeId,
  minConfidence: number,
  minVisible = 0.9,
): PupilAccuracy {
  const t = truth.eyes[eye];
  const errors: number[] = [];
  let frames = 0;
  for (const [i, s] of samples.entries()) {
    if (t.blink[i] || (t.pupilVisible[i] ?? 0) < minVisible) continue;
    frames++;
    if (s.ellipse === null || s.confidence < minConfidence) continue;
    errors.push(Math.hypot(s.ellipse.cx - (t.cx[i] as number), s.ellipse.cy - (t.cy[i] as number)));
  }
  errors.sort((a, b) => a - b);
  const q = (p: number) => (errors.length === 0 ? Number.NaN : (errors[Math.floor(p * (errors.length - 1))] as number));
  return {
    frames,
    detectionRate: frames === 0 ? 0 : errors.length / frames,
    medianErrorPx: q(0.5),
    p95ErrorPx: q(0.95),
  };
}

export interface EventScore {
  readonly truth: number;
  readonly detected: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

/** Event-level F1: a detected event and a true one match when they overlap in time (each matched once). */
export function eventF1(
  detected: readonly { startUs: number; endUs: number }[],
  truth: readonly { startUs: number; endUs: number }[],
): EventScore {
  const used = new Set<number>();
  let tp = 0;
  for (const d of detected) {
    const j = truth.findIndex((t, k) => !used.has(k) && d.startUs < t.endUs && t.startUs < d.endUs);
    if (j >= 0) {
      used.add(j);
      tp++;
    }
  }
  const precision = detected.length === 0 ? 0 : tp / detected.length;
  const recall = truth.length === 0 ? 0 : tp / truth.length;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { truth: truth.length, detected: detected.length, precision, recall, f1 };
}

export interface GazeAccuracy {
  readonly samples: number;
  /** Mean angular error against the true gaze point, degrees. */
  readonly accuracyDeg: number;
}

/**
 * Mean angular error of gaze samples against the true gaze at the nearest eye frame, over the samples inside
 * `windows` (µs since the truth's origin): e.g. the validation targets after they settle, or fixations after a slip.
 */
export function gazeAccuracy(
  gaze: readonly { tNs: bigint; x: number; y: number }[],
  truth: SessionTruth,
  scene: SceneCamera,
  windows: readonly { startUs: number; endUs: number }[],
): GazeAccuracy {
  const ref = truth.eyes.eye0;
  let sum = 0;
  let n = 0;
  let j = 0;
  for (const g of gaze) {
    const us = toUs(truth, g.tNs);
    if (!windows.some((w) => us >= w.startUs && us < w.endUs)) continue;
    while (j + 1 < ref.tUs.length && Math.abs((ref.tUs[j + 1] as number) - us) <= Math.abs((ref.tUs[j] as number) - us))
      j++;
    sum += scene.angleDeg(g.x, g.y, ref.gazeX[j] as number, ref.gazeY[j] as number);
    n++;
  }
  return { samples: n, accuracyDeg: n === 0 ? Number.NaN : sum / n };
}
