import { existsSync } from 'node:fs';
import cv, { type Mat } from '../../device/opencv.ts';

/** A face box in scene pixels: x, y (top-left), w, h. */
export type Box = readonly [number, number, number, number];

export interface DetectorOptions {
  readonly cascade: string;
  /** Frames are downscaled to this width before detection; boxes come back in full-frame pixels. */
  readonly detectWidth: number;
  /** Smallest face side in full-frame pixels. */
  readonly minSize: number;
  readonly minNeighbors: number;
}

/**
 * An OpenCV cascade face detector (Haar or LBP, from Debian's opencv-data). Detection runs on a grey,
 * downscaled, histogram-equalised copy: a cascade's cost grows with the pixel count, and faces worth keeping are
 * tens of pixels wide even at 360 px.
 */
export class FaceDetector {
  private readonly cascade;

  constructor(private readonly o: DetectorOptions) {
    if (!existsSync(o.cascade)) throw new Error(`face cascade ${o.cascade} does not exist (install opencv-data)`);
    this.cascade = new cv.CascadeClassifier(o.cascade);
  }

  /** Faces in a BGR (or grey) frame; the frame is only read. */
  detect(frame: Mat): Box[] {
    const scale = Math.min(1, this.o.detectWidth / frame.cols);
    const grey = frame.channels === 1 ? frame.copy() : frame.bgrToGray();
    const small = scale < 1 ? grey.resize(Math.round(frame.rows * scale), Math.round(frame.cols * scale)) : grey;
    if (small !== grey) grey.release();
    const equalised = small.equalizeHist();
    small.release();
    try {
      const side = Math.max(8, Math.round(this.o.minSize * scale));
      const found = this.cascade.detectMultiScale(equalised, 1.1, this.o.minNeighbors, 0, new cv.Size(side, side));
      return found.objects.map((r) => clampBox([r.x / scale, r.y / scale, r.width / scale, r.height / scale], frame));
    } finally {
      equalised.release();
    }
  }
}

function clampBox(b: readonly [number, number, number, number], frame: Mat): Box {
  const x = Math.max(0, Math.round(b[0]));
  const y = Math.max(0, Math.round(b[1]));
  const w = Math.min(frame.cols - x, Math.round(b[2]));
  const h = Math.min(frame.rows - y, Math.round(b[3]));
  return [x, y, w, h];
}
