import cv, { type Mat } from '../../device/opencv.ts';
import type { Box } from './detector.ts';

/** Side of the grey crops a track keeps (and the embedding model's source size). */
export const CROP_SIDE = 64;

/** A face crop copied out of a frame: CROP_SIDE² grey pixels, row-major, owned by JS (no Mat to release). */
export interface FaceCrop {
  readonly tNs: bigint;
  readonly box: Box;
  readonly pixels: Uint8Array;
  readonly quality: CropQuality;
}

export interface CropQuality {
  /** Variance of the 4-neighbour Laplacian: low means blurred (motion, focus). */
  readonly sharpness: number;
  /** Correlation of the crop with its mirror image: a frontal face is roughly symmetric, a profile is not. */
  readonly symmetry: number;
  /** Face side in scene pixels. */
  readonly size: number;
}

/** Copies a face out of a BGR or grey frame into a CROP_SIDE² grey crop; every Mat made here is released. */
export function cropFace(frame: Mat, box: Box): Uint8Array {
  const region = frame.getRegion(new cv.Rect(box[0], box[1], Math.max(1, box[2]), Math.max(1, box[3])));
  const grey = frame.channels === 1 ? region.copy() : region.bgrToGray();
  region.release();
  const small = grey.resize(CROP_SIDE, CROP_SIDE, 0, 0, cv.INTER_AREA);
  grey.release();
  try {
    return new Uint8Array(small.getData());
  } finally {
    small.release();
  }
}

export function cropQuality(pixels: Uint8Array, size: number): CropQuality {
  return { sharpness: laplacianVariance(pixels, CROP_SIDE), symmetry: mirrorCorrelation(pixels, CROP_SIDE), size };
}

export function laplacianVariance(p: Uint8Array, side: number): number {
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (let y = 1; y < side - 1; y++) {
    for (let x = 1; x < side - 1; x++) {
      const i = y * side + x;
      const v = (p[i - 1] ?? 0) + (p[i + 1] ?? 0) + (p[i - side] ?? 0) + (p[i + side] ?? 0) - 4 * (p[i] ?? 0);
      sum += v;
      sq += v * v;
      n++;
    }
  }
  const mean = sum / n;
  return sq / n - mean * mean;
}

/** Pearson correlation between the crop and its left-right mirror. */
export function mirrorCorrelation(p: Uint8Array, side: number): number {
  const a: number[] = [];
  const b: number[] = [];
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side / 2; x++) {
      a.push(p[y * side + x] ?? 0);
      b.push(p[y * side + side - 1 - x] ?? 0);
    }
  }
  return pearson(a, b);
}

/** A 16x16 thumbnail (4x4 block means) of a crop: the tracker's appearance cue. */
export function thumbnail(p: Uint8Array, side = CROP_SIDE, out = 16): Float32Array {
  const k = side / out;
  const t = new Float32Array(out * out);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const j = Math.floor(y / k) * out + Math.floor(x / k);
      t[j] = (t[j] ?? 0) + (p[y * side + x] ?? 0) / (k * k);
    }
  }
  return t;
}

export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] ?? 0;
    mb += b[i] ?? 0;
  }
  ma /= n;
  mb /= n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] ?? 0) - ma;
    const db = (b[i] ?? 0) - mb;
    ab += da * db;
    aa += da * da;
    bb += db * db;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}
