import { join } from 'node:path';
import type { Frame } from '../../../device/frames.ts';
import cv from '../../../device/opencv.ts';
import { SAMPLE } from '../../helpers/cli.ts';

/** The first `count` frames of the sample session's scene video at 30 fps; the caller releases their Mats. */
export function sampleSceneFrames(count: number): Frame[] {
  const frames: Frame[] = [];
  const cap = new cv.VideoCapture(join(SAMPLE, 'scene.mp4'));
  try {
    for (let i = 0; i < count; i++) {
      const mat = cap.read();
      frames.push({ stream: 'scene', index: i, tNs: BigInt(i) * 33_333_333n, width: mat.cols, height: mat.rows, mat });
    }
  } finally {
    cap.release();
  }
  return frames;
}
