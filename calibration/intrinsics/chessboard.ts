import cv, { type Mat } from '../../device/opencv.ts';
import type { ChessboardPattern } from './chessboard-pattern.ts';

/** What `glance calibrate intrinsics --json` writes (DESIGN.md, "Command line"). */
export interface CameraIntrinsics {
  /** RMS reprojection error over all corners, px. */
  readonly rms: number;
  /** Row-major 3×3 [fx, 0, cx, 0, fy, cy, 0, 0, 1]. */
  readonly cameraMatrix: number[];
  /** OpenCV order: k1, k2, p1, p2, k3. */
  readonly distCoeffs: number[];
  readonly imagesUsed: number;
  readonly width: number;
  readonly height: number;
}

export class IntrinsicsError extends Error {
  override readonly name = 'IntrinsicsError';
}

const MIN_VIEWS = 3;

/**
 * Zhang's chessboard calibration as OpenCV's own sample does it (`samples/python/calibrate.py`): corners found in
 * each grey image, refined to sub-pixel accuracy, then `calibrateCamera` with the default 5-coefficient model.
 * Images where the board is not found are skipped and counted out; all images must share one size.
 */
export function calibrateIntrinsics(files: readonly string[], pattern: ChessboardPattern): CameraIntrinsics {
  const board: { x: number; y: number; z: number }[] = [];
  for (let r = 0; r < pattern.rows; r++) {
    for (let c = 0; c < pattern.cols; c++) board.push(new cv.Point3(c * pattern.squareMm, r * pattern.squareMm, 0));
  }
  const objectPoints: InstanceType<typeof cv.Point3>[][] = [];
  const imagePoints: InstanceType<typeof cv.Point2>[][] = [];
  let size: { width: number; height: number } | null = null;
  for (const file of files) {
    let grey: Mat;
    try {
      grey = cv.imread(file, cv.IMREAD_GRAYSCALE);
    } catch {
      throw new IntrinsicsError(`cannot read image ${file}`);
    }
    if (grey.empty) throw new IntrinsicsError(`cannot read image ${file}`);
    try {
      if (size === null) size = { width: grey.cols, height: grey.rows };
      else if (size.width !== grey.cols || size.height !== grey.rows) {
        throw new IntrinsicsError(`${file} is ${grey.cols}x${grey.rows}, the others ${size.width}x${size.height}`);
      }
      const found = grey.findChessboardCorners(new cv.Size(pattern.cols, pattern.rows));
      if (!found.returnValue || found.corners.length !== pattern.cols * pattern.rows) continue;
      const criteria = new cv.TermCriteria(cv.termCriteria.EPS + cv.termCriteria.MAX_ITER, 30, 0.001);
      const refined = grey.cornerSubPix(found.corners, new cv.Size(11, 11), new cv.Size(-1, -1), criteria);
      imagePoints.push(refined);
      objectPoints.push(board as InstanceType<typeof cv.Point3>[]);
    } finally {
      grey.release();
    }
  }
  if (size === null) throw new IntrinsicsError('no images given');
  if (imagePoints.length < MIN_VIEWS) {
    throw new IntrinsicsError(
      `the ${pattern.cols}x${pattern.rows} board was found in ${imagePoints.length} of ${files.length} images; at least ${MIN_VIEWS} are needed`,
    );
  }
  const camera = cv.Mat.eye(3, 3, cv.CV_64F);
  const result = cv.calibrateCamera(
    objectPoints,
    imagePoints,
    new cv.Size(size.width, size.height),
    camera,
    [0, 0, 0, 0, 0],
  );
  const matrix = (camera.getDataAsArray() as number[][]).flat();
  camera.release();
  if (!Number.isFinite(result.returnValue)) throw new IntrinsicsError('calibrateCamera did not converge');
  return {
    rms: result.returnValue,
    cameraMatrix: matrix,
    distCoeffs: result.distCoeffs,
    imagesUsed: imagePoints.length,
    width: size.width,
    height: size.height,
  };
}
