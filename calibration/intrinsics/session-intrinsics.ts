import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { SceneIntrinsics } from './scene-camera.ts';

const sceneCameraSchema = z.object({
  cameraMatrix: z.array(z.number()).length(9),
  distCoeffs: z.array(z.number()).max(14),
});

/**
 * The scene-camera intrinsics a recorded session carries in its `session.json` (`sceneCamera`), if any. The
 * session manifest schema of the replay does not keep this field, so eye tracking reads it here.
 */
export function readSessionIntrinsics(sessionDir: string): SceneIntrinsics | undefined {
  const file = join(sessionDir, 'session.json');
  if (!existsSync(file)) return undefined;
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as { sceneCamera?: unknown };
    const parsed = sceneCameraSchema.safeParse(raw.sceneCamera);
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
