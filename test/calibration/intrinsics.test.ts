import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { calibrateIntrinsics } from '../../calibration/intrinsics/chessboard.ts';
import { globFiles } from '../../calibration/intrinsics/image-glob.ts';
import { SceneCamera } from '../../calibration/intrinsics/scene-camera.ts';
import { OPENCV_DATA, tmp } from '../helpers/cli.ts';
import { calibrateCli } from './run-cli.ts';

/** OpenCV's own chessboard views (Debian's opencv-doc), left10 absent there; left.jpg is not one of them. */
const IMAGES = join(OPENCV_DATA, 'left[0-9][0-9].jpg');

/** The same calibration in OpenCV's Python binding, the reference the Node result must agree with. */
function pythonRms(files: string[]): { rms: number; fx: number } {
  const script = `
import sys, json, cv2, numpy as np
files = json.loads(sys.argv[1])
objp = np.zeros((54, 3), np.float32); objp[:, :2] = np.mgrid[0:9, 0:6].T.reshape(-1, 2) * 25
obj, img = [], []
for f in files:
    g = cv2.imread(f, cv2.IMREAD_GRAYSCALE)
    ok, c = cv2.findChessboardCorners(g, (9, 6))
    if not ok: continue
    c = cv2.cornerSubPix(g, c, (11, 11), (-1, -1), (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.001))
    obj.append(objp); img.append(c)
rms, K, d, r, t = cv2.calibrateCamera(obj, img, g.shape[::-1], None, None)
print(json.dumps({"rms": rms, "fx": K[0, 0]}))
`;
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, JSON.stringify(files)], { encoding: 'utf8' })) as {
    rms: number;
    fx: number;
  };
}

describe('scene-camera intrinsics', () => {
  const files = globFiles(IMAGES);

  it('finds the 13 chessboard views (left01..14, no left10)', () => {
    expect(files.map((f) => f.slice(-10))).toEqual(
      ['01', '02', '03', '04', '05', '06', '07', '08', '09', '11', '12', '13', '14'].map((n) => `left${n}.jpg`),
    );
  });

  it("agrees with python3-opencv's calibrateCamera within 5%", () => {
    const ours = calibrateIntrinsics(files, { cols: 9, rows: 6, squareMm: 25 });
    const reference = pythonRms(files);
    expect(ours.imagesUsed).toBe(13);
    expect(Math.abs(ours.rms - reference.rms) / reference.rms).toBeLessThan(0.05);
    expect(Math.abs((ours.cameraMatrix[0] as number) - reference.fx) / reference.fx).toBeLessThan(0.01);
    expect(ours.rms).toBeLessThan(1);
  });

  it('glance calibrate intrinsics writes the JSON contract and stores the result for the device', () => {
    const dir = tmp('glance-intrinsics-');
    const r = calibrateCli([
      'intrinsics',
      '--images',
      IMAGES,
      '--pattern',
      '9x6',
      '--square',
      '25',
      '--json',
      join(dir, 'out.json'),
      '--db',
      join(dir, 'g.db'),
      '--device-id',
      'bench-glasses',
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(out).sort()).toEqual(['cameraMatrix', 'distCoeffs', 'imagesUsed', 'rms']);
    expect(out.cameraMatrix).toHaveLength(9);
    expect(out.distCoeffs).toHaveLength(5);
    expect(out.imagesUsed).toBe(13);
    const db = new Database(join(dir, 'g.db'), { readonly: true });
    const row = db.prepare('SELECT device, rms, width, height FROM camera_intrinsics').get() as Record<string, unknown>;
    db.close();
    expect(row).toMatchObject({ device: 'bench-glasses', rms: out.rms, width: 640, height: 480 });
    // The stored intrinsics turn pixels into angles: the image centre is ~0°, a pixel row apart is ~0.1°.
    const cam = new SceneCamera({ cameraMatrix: out.cameraMatrix as number[], distCoeffs: out.distCoeffs as number[] });
    expect(cam.angleDeg(342, 235, 343, 235)).toBeCloseTo(180 / Math.PI / 536, 3);
  });

  it('bad input exits 2 with a message naming it, and writes nothing', () => {
    const dir = tmp('glance-intrinsics-bad-');
    const json = join(dir, 'out.json');
    const cases: [string[], RegExp][] = [
      [['--images', join(dir, 'none*.jpg'), '--pattern', '9x6'], /--images: no files match/],
      [['--images', IMAGES, '--pattern', 'nine'], /--pattern: expected COLSxROWS/],
      [
        ['--images', join(OPENCV_DATA, 'left0[12].jpg'), '--pattern', '9x6'],
        /board was found in 2 of 2 images; at least 3/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = calibrateCli(['intrinsics', ...args, '--json', json, '--db', join(dir, 'g.db')]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(existsSync(json)).toBe(false);
  });

  it('a pattern that is not on the board is a clear error', () => {
    expect(() => calibrateIntrinsics(files.slice(0, 3), { cols: 7, rows: 7, squareMm: 25 })).toThrow(
      /the 7x7 board was found in 0 of 3 images/,
    );
  });
});
