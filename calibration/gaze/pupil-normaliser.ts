/**
 * Turns a pupil centre in eye-image pixels into the two numbers the polynomial maps to the scene.
 *
 * `image`: the position scaled to [-1, 1]² (Pupil Core's normalised pupil position).
 * `eye-model`: the pupil unprojected onto a sphere around the eyeball centre seen by a pinhole eye camera, as
 * the eye's rotation angles (radians) in the camera frame. The pupil moves with the sine of the rotation, and
 * an oblique eye camera bends that further, so over a ±30° field the raw position needs more than a quadratic;
 * the angles need little more than a straight line. The same model carries the slippage correction: when the
 * camera moves, the eyeball centre's image moves, and unprojecting from the moved centre undoes the motion with
 * the perspective right (the pupil, nearer the camera, moves further in the image than the centre does).
 */
export type NormaliserParams =
  | { readonly kind: 'image'; readonly width: number; readonly height: number }
  | {
      readonly kind: 'eye-model';
      /** Eyeball centre and radius in the eye image at calibration time, px. */
      readonly centre: readonly [number, number];
      readonly radiusPx: number;
      /** Eye-camera pinhole: focal length and principal point, px. */
      readonly focalPx: number;
      readonly principal: readonly [number, number];
    };

export interface PupilPoint {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Human eyeball radius (rotation centre to pupil), mm: sets the depth of the eye model, which only scales it. */
const EYEBALL_MM = 12;
/** Keep unprojection off the sphere's silhouette, where it is ill-conditioned. */
const MAX_SIN = 0.97;

export class PupilNormaliser {
  constructor(readonly params: NormaliserParams) {}

  /** The two inputs of the gaze polynomial; `centreShift` moves the eyeball centre (slippage), px. */
  normalise(p: PupilPoint, centreShift: readonly [number, number] = [0, 0]): [number, number] {
    const m = this.params;
    if (m.kind === 'image') return [(2 * p.x) / m.width - 1, (2 * p.y) / m.height - 1];
    const f = m.focalPx;
    const depth = (f * EYEBALL_MM) / m.radiusPx;
    const cx = ((m.centre[0] + centreShift[0] - m.principal[0]) / f) * depth;
    const cy = ((m.centre[1] + centreShift[1] - m.principal[1]) / f) * depth;
    const cz = depth;
    // The ray through the pupil centre meets the eye sphere first on the side facing the camera.
    let dx = (p.x - m.principal[0]) / f;
    let dy = (p.y - m.principal[1]) / f;
    const n = Math.hypot(dx, dy, 1);
    dx /= n;
    dy /= n;
    const dz = 1 / n;
    const along = dx * cx + dy * cy + dz * cz;
    const miss2 = cx * cx + cy * cy + cz * cz - along * along;
    const t = along - Math.sqrt(Math.max(0, EYEBALL_MM * EYEBALL_MM - miss2));
    let gx = (t * dx - cx) / EYEBALL_MM;
    let gy = (t * dy - cy) / EYEBALL_MM;
    const s = Math.hypot(gx, gy);
    if (s > MAX_SIN) {
      gx *= MAX_SIN / s;
      gy *= MAX_SIN / s;
    }
    const gz = Math.sqrt(1 - gx * gx - gy * gy);
    return [Math.atan2(gx, gz), Math.atan2(gy, gz)];
  }
}
