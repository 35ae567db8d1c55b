import cv, { type Mat } from '../../device/opencv.ts';
import type { LastSegmentation } from '../segmentation/policy.ts';

/**
 * The resolution policy's state, ported from the toolchain (tools/train/glance_train/seg/resolution_policy.py
 * `state_of`, traces.py `FEATURE_SIDE`/`MAX_AGE`, sequences.py's frame size); test/pipelines/schedulers/
 * resolution-features.test.ts runs that Python on the same frames and compares. Keep the two in step.
 */
export const RESOLUTION_FEATURES = [
  'diff_to_key',
  'diff_to_prev',
  'key_confidence',
  'key_age',
  'key_s1',
  'key_s075',
  'key_s05',
  'key_s025',
  'battery',
] as const;

/** The scales of the one-hot key_s* features, in their order (compare.py's SCALES). */
export const FEATURE_SCALES = [1, 0.75, 0.5, 0.25] as const;
/** traces.py MAX_AGE: a map is reused for at most this many (training) frames after the one it came from. */
export const MAX_AGE = 8;
/** resolution_policy.py DIFF_SCALE: mean |Δ| of grey/255 times this (order one for the MLP). */
export const DIFF_SCALE = 100;
/** traces.py FEATURE_SIDE: content features come from the frame at 40×30 grey. */
export const FEATURE_SIZE = { width: 40, height: 30 } as const;
/** The frames the traces were made of (sequences.py SequenceConfig): the 40×30 grey is area-shrunk from these. */
export const TRAINING_FRAME = { width: 160, height: 120 } as const;
/** SequenceConfig.fps when the manifest does not state `dataset.train.fps`. */
export const TRAINING_FPS = 10;
/** The battery level the policy assumes when the daemon has no telemetry (a full battery: no extra thrift). */
export const DEFAULT_BATTERY = 1;

/**
 * A scene frame as the policy's content features see it: BGR shrunk to the training frames' size with area
 * interpolation (as the device feeds the network and as the toolchain rendered), grey, then 40×30 with area
 * interpolation, in [0, 1]. Every Mat made here is released here; the frame's Mat is only read.
 */
export function featureGrey(scene: Mat): Float32Array {
  const made: Mat[] = [];
  try {
    let m = scene;
    if (m.cols !== TRAINING_FRAME.width || m.rows !== TRAINING_FRAME.height) {
      m = m.resize(TRAINING_FRAME.height, TRAINING_FRAME.width, 0, 0, cv.INTER_AREA);
      made.push(m);
    }
    if (m.channels === 3) {
      m = m.cvtColor(cv.COLOR_BGR2GRAY);
      made.push(m);
    } else if (m.channels !== 1) {
      throw new Error(`resolution policy: a scene frame needs 1 or 3 channels, got ${m.channels}`);
    }
    m = m.resize(FEATURE_SIZE.height, FEATURE_SIZE.width, 0, 0, cv.INTER_AREA);
    made.push(m);
    const pixels = m.getData();
    const out = new Float32Array(pixels.length);
    for (let i = 0; i < pixels.length; i++) out[i] = (pixels[i] as number) / 255;
    return out;
  } finally {
    for (const m of made) m.release();
  }
}

/** Mean |a − b| × DIFF_SCALE. */
export function greyDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`grey frames of ${a.length} and ${b.length} pixels`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] as number) - (b[i] as number));
  return a.length === 0 ? 0 : (sum / a.length) * DIFF_SCALE;
}

/** The key (last segmented frame) as the state needs it. */
export interface FeatureKey {
  readonly grey: Float32Array;
  /** Age in training frames (time since the key × the training fps). */
  readonly age: number;
  readonly last: LastSegmentation;
}

/**
 * state_of(trace, t, key, key_scale, battery): zeros for the key's features when there is no key, zero
 * diff_to_prev on the first frame.
 */
export function resolutionState(
  grey: Float32Array,
  prev: Float32Array | null,
  key: FeatureKey | null,
  battery: number,
): Float32Array {
  const s = new Float32Array(RESOLUTION_FEATURES.length);
  if (key) {
    s[0] = greyDiff(grey, key.grey);
    s[2] = key.last.confidence;
    s[3] = key.age / MAX_AGE;
    const i = FEATURE_SCALES.indexOf(key.last.scale);
    if (i < 0) throw new Error(`resolution policy: key scale ${key.last.scale} has no feature`);
    s[4 + i] = 1;
  }
  if (prev) s[1] = greyDiff(grey, prev);
  s[8] = battery;
  return s;
}
