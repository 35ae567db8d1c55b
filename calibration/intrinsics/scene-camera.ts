/**
 * The scene camera as a pinhole with OpenCV's lens distortion: turns scene pixels into viewing directions, so
 * that gaze errors and fixation dispersion are measured in degrees of visual angle rather than pixels.
 */
export interface SceneIntrinsics {
  /** Row-major 3×3 camera matrix. */
  readonly cameraMatrix: readonly number[];
  /** k1, k2, p1, p2[, k3[, k4, k5, k6]] as OpenCV orders them. */
  readonly distCoeffs: readonly number[];
}

export type Ray = readonly [number, number, number];

const UNDISTORT_ITERATIONS = 10;

export class SceneCamera {
  private readonly fx: number;
  private readonly fy: number;
  private readonly cx: number;
  private readonly cy: number;
  private readonly k: number[];

  constructor(readonly intrinsics: SceneIntrinsics) {
    const m = intrinsics.cameraMatrix;
    if (m.length !== 9 || !(Number(m[0]) > 0) || !(Number(m[4]) > 0)) {
      throw new Error(`camera matrix must be 9 numbers with positive focal lengths, got [${m.join(', ')}]`);
    }
    this.fx = m[0] as number;
    this.fy = m[4] as number;
    this.cx = m[2] as number;
    this.cy = m[5] as number;
    this.k = [...intrinsics.distCoeffs, 0, 0, 0, 0, 0, 0, 0, 0].slice(0, 8);
  }

  /** A distortion-free camera with the given horizontal field of view, for when no calibration exists. */
  static nominal(width: number, height: number, hfovDeg: number): SceneCamera {
    const f = width / 2 / Math.tan((hfovDeg * Math.PI) / 360);
    return new SceneCamera({ cameraMatrix: [f, 0, (width - 1) / 2, 0, f, (height - 1) / 2, 0, 0, 1], distCoeffs: [] });
  }

  /** Unit viewing direction through a (distorted) scene pixel: x right, y down, z forward. */
  ray(x: number, y: number): Ray {
    const [u, v] = this.undistort((x - this.cx) / this.fx, (y - this.cy) / this.fy);
    const n = Math.hypot(u, v, 1);
    return [u / n, v / n, 1 / n];
  }

  /** The (distorted) scene pixel a viewing direction falls on; null behind the camera. */
  project(ray: Ray): { x: number; y: number } | null {
    if (!(ray[2] > 1e-9)) return null;
    const [x, y] = this.distort(ray[0] / ray[2], ray[1] / ray[2]);
    return { x: this.fx * x + this.cx, y: this.fy * y + this.cy };
  }

  /** Visual angle between two scene pixels, degrees. */
  angleDeg(ax: number, ay: number, bx: number, by: number): number {
    return angleBetween(this.ray(ax, ay), this.ray(bx, by));
  }

  /** Pixels per degree at the image centre: converts a tolerance in degrees to one in pixels. */
  pxPerDeg(): number {
    return ((this.fx + this.fy) / 2) * Math.tan(Math.PI / 180);
  }

  private distort(x: number, y: number): [number, number] {
    const [k1, k2, p1, p2, k3, k4, k5, k6] = this.k as [number, number, number, number, number, number, number, number];
    const r2 = x * x + y * y;
    const radial = (1 + ((k3 * r2 + k2) * r2 + k1) * r2) / (1 + ((k6 * r2 + k5) * r2 + k4) * r2);
    return [x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x), y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y];
  }

  /** Inverts OpenCV's distortion model by fixed-point iteration, as `cv::undistortPoints` does. */
  private undistort(xd: number, yd: number): [number, number] {
    const [k1, k2, p1, p2, k3, k4, k5, k6] = this.k as [number, number, number, number, number, number, number, number];
    if (k1 === 0 && k2 === 0 && p1 === 0 && p2 === 0 && k3 === 0) return [xd, yd];
    let x = xd;
    let y = yd;
    for (let i = 0; i < UNDISTORT_ITERATIONS; i++) {
      const r2 = x * x + y * y;
      const radial = (1 + ((k3 * r2 + k2) * r2 + k1) * r2) / (1 + ((k6 * r2 + k5) * r2 + k4) * r2);
      const dx = 2 * p1 * x * y + p2 * (r2 + 2 * x * x);
      const dy = p1 * (r2 + 2 * y * y) + 2 * p2 * x * y;
      x = (xd - dx) / radial;
      y = (yd - dy) / radial;
    }
    return [x, y];
  }
}

export function angleBetween(a: Ray, b: Ray): number {
  // atan2 of |a×b| and a·b stays accurate for the tiny angles of fixational eye movements, unlike acos.
  const cx = a[1] * b[2] - a[2] * b[1];
  const cy = a[2] * b[0] - a[0] * b[2];
  const cz = a[0] * b[1] - a[1] * b[0];
  return (Math.atan2(Math.hypot(cx, cy, cz), a[0] * b[0] + a[1] * b[1] + a[2] * b[2]) * 180) / Math.PI;
}
