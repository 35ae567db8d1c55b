import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PupilNormaliser } from '../../calibration/gaze/pupil-normaliser.ts';
import type { PupilEllipse } from '../../calibration/pupil/types.ts';
import { estimateCentreShift, estimateEyeCentre } from '../../calibration/slippage/eye-centre.ts';
import { SlippageCompensator } from '../../calibration/slippage/slippage-compensator.ts';
import { ROOT } from '../helpers/cli.ts';

interface EyeGeometryTruth {
  centre: [number, number];
  radiusPx: number;
  focalPx: number;
  principal: [number, number];
  still: PupilEllipse[];
  slipped: PupilEllipse[];
}

/**
 * Pupil ellipses straight from the generator's eye model (no rendering, so no detector error): one per gaze
 * target on a 9×7 grid over the scene, before and after the eye camera slips by (5, -4) px.
 */
function generatorEllipses(): EyeGeometryTruth {
  const script = `
import json, numpy as np
from glance_train.synth.eye_model import make_eye_geometry, pupil_ellipse, gaze_from_scene
from glance_train.synth.scene_camera import SceneCamera
from glance_train.synth.seeding import child_rng
from glance_train.synth.slippage import slipped_geometry
g = make_eye_geometry("right", child_rng(1, "eye0", "geometry"))
s = slipped_geometry(g, (5.0, -4.0))
cam = SceneCamera()
def ellipses(geom):
    out = []
    for y in np.linspace(40, 440, 7):
        for x in np.linspace(40, 600, 9):
            e = pupil_ellipse(geom, gaze_from_scene(geom, cam.rays(x, y)), 2.4)
            out.append({"cx": e.cx, "cy": e.cy, "major": e.major, "minor": e.minor, "angleDeg": e.angle_deg})
    return out
print(json.dumps({"centre": g.eyeball_center_px(), "radiusPx": g.eyeball_radius_px(), "focalPx": g.focal_px,
                  "principal": g.principal_px, "still": ellipses(g), "slipped": ellipses(s)}))
`;
  return JSON.parse(
    execFileSync('/usr/bin/python3', ['-c', script], { cwd: join(ROOT, 'tools/train'), encoding: 'utf8' }),
  ) as EyeGeometryTruth;
}

describe('slippage: eyeball centre from pupil ellipses', () => {
  const g = generatorEllipses();

  it('the minor axes of the pupil ellipses cross at the projected eyeball centre', () => {
    const c = estimateEyeCentre(g.still);
    expect(c).not.toBeNull();
    expect(Math.hypot((c?.x ?? 0) - g.centre[0], (c?.y ?? 0) - g.centre[1])).toBeLessThan(0.3);
    expect(Math.abs((c?.radiusPx ?? 0) - g.radiusPx) / g.radiusPx).toBeLessThan(0.05);
  });

  it('a slip of the eye camera shows as a shift of that centre', () => {
    const shift = estimateCentreShift(g.slipped, g.centre, 0);
    expect(shift?.dx).toBeCloseTo(5, 0);
    expect(shift?.dy).toBeCloseTo(-4, 0);
    // The pupils moved further than the centre: they are nearer the camera. A plain image shift would not do.
    const moved = g.slipped.map((e, i) => Math.hypot(e.cx - (g.still[i]?.cx ?? 0), e.cy - (g.still[i]?.cy ?? 0)));
    expect(Math.min(...moved)).toBeGreaterThan(Math.hypot(5, 4) * 1.05);
  });

  it('unprojecting from the shifted centre undoes the slip, perspective included', () => {
    const n = new PupilNormaliser({
      kind: 'eye-model',
      centre: g.centre,
      radiusPx: g.radiusPx,
      focalPx: g.focalPx,
      principal: g.principal,
    });
    let worstCorrected = 0;
    let worstRaw = 0;
    for (const [i, e] of g.slipped.entries()) {
      const before = n.normalise({ x: g.still[i]?.cx ?? 0, y: g.still[i]?.cy ?? 0, width: 192, height: 192 });
      const raw = n.normalise({ x: e.cx, y: e.cy, width: 192, height: 192 });
      const corrected = n.normalise({ x: e.cx, y: e.cy, width: 192, height: 192 }, [5, -4]);
      const deg = (a: number[], b: number[]) =>
        (Math.hypot((a[0] ?? 0) - (b[0] ?? 0), (a[1] ?? 0) - (b[1] ?? 0)) * 180) / Math.PI;
      worstCorrected = Math.max(worstCorrected, deg(corrected, before));
      worstRaw = Math.max(worstRaw, deg(raw, before));
    }
    expect(worstRaw).toBeGreaterThan(4);
    expect(worstCorrected).toBeLessThan(0.5);
  });

  it('the compensator corrects a slip after its window, ignores noise, and prompts for a large one', () => {
    const params = {
      windowS: 4,
      updateEveryS: 0.5,
      ridge: 0.01,
      deadbandPx: 1.5,
      recalibratePx: 6,
      minConfidence: 0.8,
    };
    const comp = new SlippageCompensator({ eye0: g.centre }, params);
    const feed = (ellipses: PupilEllipse[], fromS: number, toS: number) => {
      for (let t = fromS, i = 0; t < toS; t += 1 / 120, i++) {
        comp.observe('eye0', BigInt(Math.round(t * 1e9)), ellipses[i % ellipses.length] as PupilEllipse, 0.95);
      }
    };
    feed(g.still, 0, 6);
    expect(comp.shift('eye0')).toEqual([0, 0]);
    feed(g.slipped, 6, 12);
    const [dx, dy] = comp.shift('eye0');
    expect(dx).toBeCloseTo(5, 0);
    expect(dy).toBeCloseTo(-4, 0);
    expect(comp.status()[0]?.needsRecalibration).toBe(true); // 6.4 px > 6
    expect(comp.drainEvents().map((e) => e.kind)).toEqual(['slipped', 'recalibrate']);
  });

  it('too few or too similar ellipses give no estimate rather than a wild one', () => {
    expect(estimateEyeCentre(g.still.slice(0, 5))).toBeNull();
    const same = Array.from({ length: 50 }, () => g.still[0] as PupilEllipse);
    expect(estimateCentreShift(same, g.centre, 0.01)).toBeNull();
  });
});
