import cv, { type Mat } from '../../device/opencv.ts';

/** The network's input size at `scale` of its base input: whole pixels, at least 8 (as the toolchain rounds). */
export function scaledSize(base: { width: number; height: number }, scale: number): { width: number; height: number } {
  return { width: Math.max(8, Math.round(base.width * scale)), height: Math.max(8, Math.round(base.height * scale)) };
}

/**
 * A BGR scene frame as the network's input: resized with area interpolation (OpenCV, as the toolchain's
 * data), kept in BGR (the manifest's channel order), pixels/255, NCHW planes. The frame's Mat is not touched;
 * the resized copy is released here.
 */
export function toInputTensor(frame: Mat, width: number, height: number): Float32Array {
  if (frame.channels !== 3) throw new Error(`segmentation needs a 3-channel BGR frame, got ${frame.channels} channels`);
  const small = frame.cols === width && frame.rows === height ? null : frame.resize(height, width, 0, 0, cv.INTER_AREA);
  try {
    return bgrToPlanes((small ?? frame).getData(), width, height);
  } finally {
    small?.release();
  }
}

/** Interleaved BGR bytes of a width×height image → the network's input: NCHW float planes, pixels/255, BGR kept. */
export function bgrToPlanes(bgr: Uint8Array, width: number, height: number): Float32Array {
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let p = 0, i = 0; p < plane; p++, i += 3) {
    out[p] = (bgr[i] as number) / 255;
    out[plane + p] = (bgr[i + 1] as number) / 255;
    out[2 * plane + p] = (bgr[i + 2] as number) / 255;
  }
  return out;
}
