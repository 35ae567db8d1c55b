import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../device/paths.ts';
import type { GreyImage } from '../../pipelines/schedulers/flow/image.ts';
import type { LabelMap } from '../../pipelines/schedulers/flow/warp-labels.ts';

const TRAIN_DIR = join(REPO_ROOT, 'tools/train');

/** A synthetic scene sequence (glance_train.keyframe.sequences): grey frames and their true class maps. */
export interface LabelledSequence {
  readonly name: string;
  readonly frames: GreyImage[];
  readonly labels: LabelMap[];
  readonly classes: number;
}

export function readSequence(dir: string): LabelledSequence {
  const meta = JSON.parse(readFileSync(join(dir, 'sequence.json'), 'utf8')) as {
    frames: number;
    width: number;
    height: number;
    labelWidth: number;
    labelHeight: number;
    classes: string[];
  };
  const { width: w, height: h, frames: n, labelWidth: lw, labelHeight: lh } = meta;
  const pixels = readFileSync(join(dir, 'frames.u8'));
  const labels = readFileSync(join(dir, 'labels.u8'));
  if (pixels.length !== n * w * h || labels.length !== n * lw * lh) {
    throw new Error(`${dir}: frames.u8/labels.u8 do not hold ${n} images of ${w}x${h} and ${lw}x${lh}`);
  }
  const frames: GreyImage[] = [];
  const maps: LabelMap[] = [];
  for (let i = 0; i < n; i++) {
    frames.push({ width: w, height: h, data: Float32Array.from(pixels.subarray(i * w * h, (i + 1) * w * h)) });
    maps.push({ width: lw, height: lh, data: Uint8Array.from(labels.subarray(i * lw * lh, (i + 1) * lw * lh)) });
  }
  return { name: dir.split('/').pop() ?? dir, frames, labels: maps, classes: meta.classes.length };
}

/** Sequence directories under `root` (seq-*), in name order. */
export function sequenceDirs(root: string): string[] {
  return readdirSync(root)
    .filter((d) => d.startsWith('seq-'))
    .sort()
    .map((d) => join(root, d));
}

/**
 * Head-motion profiles of the generator (glance_train.keyframe.head_motion): the original drift and short turns,
 * or the eyewear still / pursuit / head-turn model the key scheduler is trained and judged on.
 */
export type HeadMotionProfile = 'drift-turns' | 'eyewear';

/** Renders `count` sequences from seeds `seed`, `seed`+1, … into `out` with Debian's python3 (the toolchain). */
export function generateSequences(
  out: string,
  seed: number,
  count: number,
  frames: number,
  profile: HeadMotionProfile = 'drift-turns',
): string[] {
  const python = process.env.GLANCE_PYTHON ?? '/usr/bin/python3';
  const args = ['-m', 'glance_train.keyframe.sequences', '--out', out, '--seed', String(seed)];
  args.push('--count', String(count), '--frames', String(frames), '--profile', profile);
  const proc = spawnSync(python, args, {
    env: { ...process.env, PYTHONPATH: TRAIN_DIR },
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (proc.status !== 0) throw new Error(`sequence generator failed (${proc.status}): ${proc.stderr}`);
  return sequenceDirs(out);
}
