import { CameraIntrinsicsRepository } from '../../storage/camera-intrinsics.ts';
import type { Db } from '../../storage/db.ts';
import { SceneCamera, type SceneIntrinsics } from '../intrinsics/scene-camera.ts';

/**
 * The scene camera gaze angles are measured in: the intrinsics the daemon was given (a recorded session carries
 * its own), else the newest chessboard calibration stored for this session's device at this frame size, else a
 * distortion-free camera with the configured field of view (angles are then approximate, and the log says so).
 */
export function resolveSceneCamera(
  db: Db,
  sessionId: string,
  given: SceneIntrinsics | undefined,
  width: number,
  height: number,
  fallbackHfovDeg: number,
): { camera: SceneCamera; source: 'given' | 'stored' | 'nominal' } {
  if (given !== undefined) return { camera: new SceneCamera(given), source: 'given' };
  const session = db.prepare('SELECT device FROM sessions WHERE id = ?').get(sessionId) as
    | { device: string }
    | undefined;
  if (session !== undefined) {
    const stored = new CameraIntrinsicsRepository(db).latest(session.device);
    if (stored !== undefined && stored.width === width && stored.height === height) {
      return { camera: new SceneCamera(stored), source: 'stored' };
    }
  }
  return { camera: SceneCamera.nominal(width, height, fallbackHfovDeg), source: 'nominal' };
}
