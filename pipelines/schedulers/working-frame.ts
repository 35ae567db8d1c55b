import cv, { type Mat } from '../../device/opencv.ts';
import type { GreyImage } from './flow/image.ts';

/** Width of the grey frames the flow and the scheduler work on (the traces were built at this size). */
export const WORK_WIDTH = 160;

/**
 * A scene frame as the scheduler sees it: grey, shrunk to WORK_WIDTH with area interpolation, copied out of
 * OpenCV (the frame's Mat belongs to the pipeline). Every Mat made here is released here.
 */
export function workingFrame(scene: Mat, width = WORK_WIDTH): GreyImage {
  const height = Math.round((scene.rows * width) / scene.cols);
  const grey = scene.channels === 1 ? scene : scene.cvtColor(cv.COLOR_BGR2GRAY);
  try {
    const small = grey.resize(height, width, 0, 0, cv.INTER_AREA);
    try {
      // The typed-array constructor converts the Buffer natively (Float32Array.from walks an iterator: 0.29 vs 0.02 ms at 160×120, measured).
      return { width, height, data: new Float32Array(small.getData()) };
    } finally {
      small.release();
    }
  } finally {
    if (grey !== scene) grey.release();
  }
}
