import type { Mat } from './opencv.ts';

/** The three camera streams of the glasses: right eye, left eye and the world-facing scene camera. */
export const STREAM_NAMES = ['eye0', 'eye1', 'scene'] as const;
export type StreamName = (typeof STREAM_NAMES)[number];

export function isEyeStream(stream: StreamName): stream is 'eye0' | 'eye1' {
  return stream !== 'scene';
}

/**
 * One captured image. `tNs` is the capture time on the device's monotonic clock; the pixels travel by reference
 * (an OpenCV Mat) so that stages never copy an image they only look at.
 */
export interface Frame {
  readonly stream: StreamName;
  readonly index: number;
  readonly tNs: bigint;
  readonly width: number;
  readonly height: number;
  readonly mat: Mat;
}
