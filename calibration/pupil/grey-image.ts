import cv, { type Mat } from '../../device/opencv.ts';
import type { GreyImage } from './types.ts';

/**
 * A frame's pixels as a grey byte buffer the detectors own: one conversion in OpenCV (eye videos decode as
 * BGR) and one copy out of the Mat, which the pipeline releases after the frame has passed every stage.
 */
export function greyImageOf(mat: Mat): GreyImage {
  if (mat.channels === 1) return { data: mat.getData(), width: mat.cols, height: mat.rows };
  const grey = mat.cvtColor(mat.channels === 4 ? cv.COLOR_BGRA2GRAY : cv.COLOR_BGR2GRAY);
  try {
    return { data: grey.getData(), width: grey.cols, height: grey.rows };
  } finally {
    grey.release();
  }
}
