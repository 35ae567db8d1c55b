/**
 * The emotion models' per-step inputs from the daemon's frames, prepared as the toolchain prepared them
 * (tools/train/glance_train/emotion/dataset.py): the grey eye image area-resized to 32×32 and scaled to 0..1; the
 * scene crop a square of a third of the frame height at the gaze, kept inside the frame,
 * area-resized, RGB, 0..1, channels first.
 */
import { areaResize } from '../../calibration/pupil/cnn-pupil-detector.ts';
import { greyImageOf } from '../../calibration/pupil/grey-image.ts';
import cv, { type Mat } from '../../device/opencv.ts';

export const CROP_FRACTION = 1 / 3;

export interface CropBox {
  readonly x: number;
  readonly y: number;
  readonly side: number;
}

/** Python's `crop_box`: the square centred at (x, y) scene pixels, shifted to stay in the frame. */
export function cropBox(x: number, y: number, width: number, height: number): CropBox {
  const side = Math.max(1, Math.min(Math.round(CROP_FRACTION * height), width, height));
  const clamp = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  return {
    x: clamp(Math.round(x - side / 2), width - side),
    y: clamp(Math.round(y - side / 2), height - side),
    side,
  };
}

/** Grey eye crop, size×size floats 0..1, written into `out`. */
export function eyeInput(mat: Mat, size: number, out: Float32Array): void {
  areaResize(greyImageOf(mat), size, out);
}

/** RGB scene crop, 3×size×size floats 0..1 (channels first), written into `out`. */
export function sceneInput(mat: Mat, crop: CropBox, size: number, out: Float32Array): void {
  const region = mat.getRegion(new cv.Rect(crop.x, crop.y, crop.side, crop.side));
  const small = region.resize(size, size, 0, 0, cv.INTER_AREA);
  try {
    const data = small.getData();
    const ch = small.channels;
    const plane = size * size;
    for (let i = 0; i < plane; i++) {
      const b = data[i * ch] as number;
      const g = data[i * ch + (ch > 1 ? 1 : 0)] as number;
      const r = data[i * ch + (ch > 2 ? 2 : 0)] as number;
      out[i] = r / 255;
      out[plane + i] = g / 255;
      out[2 * plane + i] = b / 255;
    }
  } finally {
    small.release();
    region.release();
  }
}
