/**
 * What a pupil detector sees and returns. Detectors work on plain grey pixels, not on OpenCV Mats, so that a
 * learnt detector (an ONNX model fed from the same buffer) plugs in beside the classical one and both are
 * measured on the same data.
 */

/** One grey image, row-major, one byte a pixel. The buffer is the detector's to read, never to keep. */
export interface GreyImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/**
 * A pupil ellipse in eye-image pixels (pixel centres at integer coordinates, as OpenCV draws): full axis lengths,
 * `angleDeg` the direction of the major axis from +x towards +y in [0, 180).
 */
export interface PupilEllipse {
  readonly cx: number;
  readonly cy: number;
  readonly major: number;
  readonly minor: number;
  readonly angleDeg: number;
}

export interface PupilDetection {
  /** null when nothing pupil-like was found (a closed eye, a black frame). */
  readonly ellipse: PupilEllipse | null;
  /** In [0, 1]: how much of the fitted outline the image supports, times how plausible its contrast is. */
  readonly confidence: number;
  /** Pupil diameter (the major axis), px; 0 without an ellipse. */
  readonly diameterPx: number;
}

export interface PupilDetector {
  /** The detector's name as recorded with its results (e.g. `dark-pupil`). */
  readonly name: string;
  detect(image: GreyImage): PupilDetection;
}

export const NO_PUPIL: PupilDetection = Object.freeze({ ellipse: null, confidence: 0, diameterPx: 0 });

/**
 * A detector whose inference is asynchronous (an ONNX model through onnxruntime-node): it detects in batches,
 * so it serves the measurement paths (tests, bench, offline re-detection), not the synchronous per-frame stage.
 */
export interface AsyncPupilDetector {
  readonly name: string;
  detectBatch(images: readonly GreyImage[]): Promise<PupilDetection[]>;
}
