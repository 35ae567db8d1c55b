import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EyeId } from '../gaze/gazer.ts';

/** The parts of a synthetic session's groundtruth.json that eye tracking is measured against. */
export interface EyeTruth {
  readonly tUs: number[];
  readonly cx: number[];
  readonly cy: number[];
  readonly major: number[];
  readonly pupilVisible: number[];
  readonly blink: number[];
  readonly gazeX: number[];
  readonly gazeY: number[];
}

export interface SessionTruth {
  /** Clock origin of every `…Us` field, ns. */
  readonly t0Ns: bigint;
  readonly eyes: Record<EyeId, EyeTruth>;
  readonly markers: { kind: 'calibration' | 'validation'; x: number; y: number; startUs: number; endUs: number }[];
  readonly blinks: { startUs: number; endUs: number }[];
  readonly fixations: { startUs: number; endUs: number; x: number; y: number }[];
  readonly sceneCamera: { cameraMatrix: number[]; distCoeffs: number[] };
  readonly slip?: { atUs: number; rampUs: number; px: [number, number] };
}

/** Reads `groundtruth.json` (see its `units` field: times are µs since `t0Ns`, eye values in eye-image pixels). */
export function readSessionTruth(dir: string): SessionTruth {
  const raw = JSON.parse(readFileSync(join(dir, 'groundtruth.json'), 'utf8')) as {
    t0Ns: number;
    eye0: EyeTruth;
    eye1: EyeTruth;
    calibration: SessionTruth['markers'];
    events: { blinks: SessionTruth['blinks']; fixations: SessionTruth['fixations'] };
    sceneCamera: SessionTruth['sceneCamera'];
    slip?: SessionTruth['slip'];
  };
  return {
    t0Ns: BigInt(raw.t0Ns),
    eyes: { eye0: raw.eye0, eye1: raw.eye1 },
    markers: raw.calibration,
    blinks: raw.events.blinks,
    fixations: raw.events.fixations,
    sceneCamera: raw.sceneCamera,
    ...(raw.slip ? { slip: raw.slip } : {}),
  };
}

/** Microseconds since the truth's clock origin. */
export function toUs(truth: SessionTruth, tNs: bigint): number {
  return Number(tNs - truth.t0Ns) / 1000;
}
