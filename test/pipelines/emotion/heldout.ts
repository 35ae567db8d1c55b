/** Test helper: a freshly generated held-out set (Python writes it) and the zoo's emotion models on it. */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { compareVersions } from '../../../models/versions.ts';
import { ROOT } from '../../helpers/cli.ts';

export interface HeldOut {
  readonly labels: number[];
  readonly participants: string[];
  readonly n: number;
  readonly arrays: Record<'eye' | 'pupil' | 'scene', { data: Float32Array; shape: number[] }>;
}

/** Runs glance_train.emotion.heldout into `dir` (one torch thread, one process). */
export function generateHeldOut(dir: string, args: string[]): HeldOut {
  const r = spawnSync('/usr/bin/python3', ['-m', 'glance_train.emotion.heldout', '--out', dir, ...args], {
    cwd: ROOT,
    env: { ...process.env, PYTHONPATH: join(ROOT, 'tools/train'), OMP_NUM_THREADS: '1' },
    encoding: 'utf8',
    timeout: 240_000,
  });
  if (r.status !== 0) throw new Error(`heldout generation failed (${r.status}): ${r.stderr}`);
  const meta = JSON.parse(readFileSync(join(dir, 'heldout.json'), 'utf8')) as {
    labels: number[];
    participants: string[];
    shapes: Record<string, number[]>;
  };
  const read = (name: 'eye' | 'pupil' | 'scene') => {
    const buf = readFileSync(join(dir, `${name}.f32`));
    const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    return { data, shape: meta.shapes[name] as number[] };
  };
  return {
    labels: meta.labels,
    participants: meta.participants,
    n: meta.labels.length,
    arrays: { eye: read('eye'), pupil: read('pupil'), scene: read('scene') },
  };
}

/** The version the daemon serves (the newest in the zoo; older ones stay for rollback). */
export const zooVersion = (name: string): string =>
  readdirSync(join(ROOT, 'models/zoo', name))
    .filter((v) => existsSync(join(ROOT, 'models/zoo', name, v, 'manifest.json')))
    .sort(compareVersions)
    .at(-1) ?? '';
export const zooDir = (name: string, version = zooVersion(name)) => join(ROOT, 'models/zoo', name, version);

export async function openZooModel(name: string, version = zooVersion(name)): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(readFileSync(join(zooDir(name, version), 'model.onnx')), {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
}

/** Runs a model over the set in batches; returns each output's rows (flattened per example). */
export async function runOver(
  session: ort.InferenceSession,
  set: HeldOut,
  batch = 32,
): Promise<Record<string, Float32Array[]>> {
  const out: Record<string, Float32Array[]> = {};
  for (let start = 0; start < set.n; start += batch) {
    const count = Math.min(batch, set.n - start);
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of session.inputNames as ('eye' | 'pupil' | 'scene')[]) {
      const { data, shape } = set.arrays[name];
      const per = shape.slice(1).reduce((a, b) => a * b, 1);
      feeds[name] = new ort.Tensor('float32', data.slice(start * per, (start + count) * per), [
        count,
        ...shape.slice(1),
      ]);
    }
    const res = await session.run(feeds);
    for (const [k, t] of Object.entries(res)) {
      const per = t.dims.slice(1).reduce((a, b) => a * b, 1);
      const data = t.data as Float32Array;
      out[k] ??= [];
      for (let i = 0; i < count; i++) out[k].push(data.slice(i * per, (i + 1) * per));
    }
  }
  return out;
}

export function argmaxOf(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if ((row[i] ?? 0) > (row[best] ?? 0)) best = i;
  return best;
}

export function accuracyOf(logits: Float32Array[], labels: number[]): number {
  let hit = 0;
  logits.forEach((row, i) => {
    if (argmaxOf(row) === labels[i]) hit++;
  });
  return hit / labels.length;
}
