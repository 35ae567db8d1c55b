/**
 * Traces with the real segmentation network, the papers' way: the reference of every frame is the zoo network's
 * output on that frame at full scale, a key frame's result is the network's output on the key (at any device
 * scale), and non-key frames warp it by the device's own flow. Every quality is recorded both against that
 * reference and against the ground truth.
 *
 *   tsx tools/keyframe/net-traces-cli.ts --max-interval 10 --out traces.json SEQ_DIR…
 *
 * Per sequence (N frames, K = max interval, S scales, all row-major):
 * - `deviation` N·K rows of the six DEVIATION_FIELDS of frame t from key t − age (null where the key is < 0),
 * - `warpRef` / `warpTruth` N·K·S: mIoU of the network's map of key t − age at scale s, warped to t by
 *   denseFlow(t, key), against the reference / the truth (null where the key is < 0),
 * - `keyRef` / `keyTruth` / `confidence` N·S: the map of frame t at scale s itself (no propagation),
 * - `msByScale` S: median onnxruntime wall time of one run at each scale over this sequence.
 * Maps are compared at the network's base size (160×120); smaller scales are read there by nearest neighbour.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { frameDeviation } from '../../pipelines/schedulers/deviation.ts';
import { denseFlow } from '../../pipelines/schedulers/flow/lucas-kanade.ts';
import { type LabelMap, warpLabels } from '../../pipelines/schedulers/flow/warp-labels.ts';
import { frameMeanIoU } from '../../pipelines/schedulers/quality.ts';
import { resizeLabels, type ZooSegmenter } from './segmenter.ts';
import { readSequence } from './sequences.ts';
import { DEVIATION_FIELDS } from './traces-cli.ts';

interface SegMeta {
  readonly frames: number;
  readonly segBase: [number, number];
  readonly segScales: number[];
}

export interface NetTrace {
  readonly name: string;
  readonly frames: number;
  readonly deviation: (number[] | null)[];
  readonly warpRef: (number | null)[];
  readonly warpTruth: (number | null)[];
  readonly keyRef: number[];
  readonly keyTruth: number[];
  readonly confidence: number[];
  readonly msByScale: number[];
}

const r6 = (v: number) => Number(v.toFixed(6));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

export async function traceWithNetwork(dir: string, seg: ZooSegmenter, maxInterval: number): Promise<NetTrace> {
  const seq = readSequence(dir);
  const meta = JSON.parse(readFileSync(join(dir, 'sequence.json'), 'utf8')) as SegMeta;
  if (!meta.segBase || !meta.segScales) throw new Error(`${dir}: no segmentation inputs (an old sequence?)`);
  const [bw, bh] = meta.segBase;
  const n = meta.frames;
  const scales = meta.segScales;
  // Truth at the network's base size: the label maps are 2× it, so every other pixel (nearest).
  const truth: LabelMap[] = seq.labels.map((l) => resizeLabels(l, bw, bh));
  const maps: LabelMap[][] = [];
  const keyRef: number[] = [];
  const keyTruth: number[] = [];
  const confidence: number[] = [];
  const ms: number[][] = scales.map(() => []);
  const inputs = scales.map((s) => {
    const w = Math.max(8, Math.round(bw * s));
    const h = Math.max(8, Math.round(bh * s));
    const bytes = readFileSync(join(dir, `bgr-s${Math.round(s * 100)}.u8`));
    if (bytes.length !== n * w * h * 3)
      throw new Error(`${dir}: bgr-s${Math.round(s * 100)}.u8 is not ${n}×${w}×${h}×3`);
    return { w, h, bytes };
  });
  for (let t = 0; t < n; t++) {
    const row: LabelMap[] = [];
    for (const [si, { w, h, bytes }] of inputs.entries()) {
      const out = await seg.segment(bytes.subarray(t * w * h * 3, (t + 1) * w * h * 3), w, h);
      ms[si]?.push(out.ms);
      row.push(resizeLabels(out.labels, bw, bh));
      confidence.push(r6(out.confidence));
    }
    maps.push(row);
  }
  for (let t = 0; t < n; t++) {
    const ref = maps[t]?.[0] as LabelMap;
    for (const m of maps[t] ?? []) {
      keyRef.push(r6(frameMeanIoU(m, ref, seg.classes)));
      keyTruth.push(r6(frameMeanIoU(m, truth[t] as LabelMap, seg.classes)));
    }
  }
  const deviation: (number[] | null)[] = [];
  const warpRef: (number | null)[] = [];
  const warpTruth: (number | null)[] = [];
  for (let t = 0; t < n; t++) {
    const current = seq.frames[t] as (typeof seq.frames)[number];
    const ref = maps[t]?.[0] as LabelMap;
    for (let age = 1; age <= maxInterval; age++) {
      const k = t - age;
      if (k < 0) {
        deviation.push(null);
        for (let s = 0; s < scales.length; s++) {
          warpRef.push(null);
          warpTruth.push(null);
        }
        continue;
      }
      const key = seq.frames[k] as (typeof seq.frames)[number];
      const flow = denseFlow(current, key);
      const dev = frameDeviation(current, key, flow);
      deviation.push(DEVIATION_FIELDS.map((f) => Number(dev[f].toPrecision(6))));
      for (const m of maps[k] ?? []) {
        const warped = warpLabels(m, flow);
        warpRef.push(r6(frameMeanIoU(warped, ref, seg.classes)));
        warpTruth.push(r6(frameMeanIoU(warped, truth[t] as LabelMap, seg.classes)));
      }
    }
  }
  const name = dir.split('/').pop() ?? dir;
  const msByScale = ms.map((xs) => r6(median(xs)));
  return { name, frames: n, deviation, warpRef, warpTruth, keyRef, keyTruth, confidence, msByScale };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'max-interval': { type: 'string', default: '10' },
      out: { type: 'string' },
      zoo: { type: 'string' },
      'seg-version': { type: 'string' },
    },
  });
  const k = Number(values['max-interval']);
  if (!Number.isInteger(k) || k < 1 || !values.out || positionals.length === 0) {
    process.stderr.write('usage: net-traces-cli.ts --max-interval K --out FILE.json [--zoo DIR] SEQ_DIR…\n');
    process.exit(2);
  }
  const { POLICY_SEGMENTATION_VERSION, ZooSegmenter } = await import('./segmenter.ts');
  const seg = await ZooSegmenter.open(values.zoo, values['seg-version'] ?? POLICY_SEGMENTATION_VERSION);
  try {
    const sequences: NetTrace[] = [];
    for (const dir of positionals) {
      sequences.push(await traceWithNetwork(dir, seg, k));
      process.stderr.write(`traced ${dir}\n`);
    }
    const doc = { maxInterval: k, fields: DEVIATION_FIELDS, scales: [1, 0.75, 0.5, 0.25], model: seg.model, sequences };
    writeFileSync(values.out, JSON.stringify(doc));
  } finally {
    await seg.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
