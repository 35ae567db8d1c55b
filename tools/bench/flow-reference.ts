import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../device/paths.ts';
import { flowFromInterleaved } from '../../pipelines/schedulers/flow/endpoint.ts';
import { type Flow, type GreyImage, greyImage } from '../../pipelines/schedulers/flow/image.ts';

const TRAIN_DIR = join(REPO_ROOT, 'tools/train');

export interface ReferencePair {
  readonly name: string;
  readonly a: GreyImage;
  readonly b: GreyImage;
  readonly farneback: Flow;
  readonly farnebackMs: number;
}

/**
 * Real frame pairs (opencv-doc's basketball, rubberwhale, vtest.avi) with OpenCV Farneback's flow, computed by
 * Debian's python3-opencv into `dir` (glance_train.keyframe.farneback) and read back here.
 */
export function farnebackPairs(dir: string, repeat = 10): ReferencePair[] {
  const python = process.env.GLANCE_PYTHON ?? '/usr/bin/python3';
  const proc = spawnSync(python, ['-m', 'glance_train.keyframe.farneback', '--out', dir, '--repeat', String(repeat)], {
    env: { ...process.env, PYTHONPATH: TRAIN_DIR },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (proc.status !== 0) throw new Error(`farneback reference failed (${proc.status}): ${proc.stderr}`);
  const doc = JSON.parse(readFileSync(join(dir, 'pairs.json'), 'utf8')) as {
    pairs: { name: string; width: number; height: number; farnebackMs: number }[];
  };
  return doc.pairs.map((p) => {
    const read = (suffix: string) => readFileSync(join(dir, `${p.name}.${suffix}`));
    const f32 = read('flow.f32');
    const xy = new Float32Array(f32.buffer, f32.byteOffset, f32.byteLength / 4);
    return {
      name: p.name,
      a: greyImage(p.width, p.height, read('a.u8')),
      b: greyImage(p.width, p.height, read('b.u8')),
      farneback: flowFromInterleaved(p.width, p.height, Float32Array.from(xy)),
      farnebackMs: p.farnebackMs,
    };
  });
}
