import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GreyImage } from '../../pipelines/schedulers/flow/image.ts';
import type { LabelMap } from '../../pipelines/schedulers/flow/warp-labels.ts';
import { resizeLabels, type ZooSegmenter } from './segmenter.ts';
import { readSequence } from './sequences.ts';

/** The device's segmentation scales, in the order the resolution policy's actions name them. */
export const SCALES = [1, 0.75, 0.5, 0.25] as const;

/**
 * A synthetic sequence with the zoo network's result on every frame at every scale, computed once so that
 * every schedule is scored on the same maps: `maps[t][s]` at the network's base size (smaller scales read there
 * by nearest neighbour, as the stage's classAt does), `ref[t]` = `maps[t][0]` (the every-frame full-scale
 * reference), `truth[t]` the masks at base size.
 */
export interface SegmentedSequence {
  readonly name: string;
  readonly grey: GreyImage[];
  /** 40×30 grey in [0, 1], row-major: the resolution policy's content features. */
  readonly grey40: Float32Array[];
  readonly maps: LabelMap[][];
  readonly confidence: number[][];
  readonly truth: LabelMap[];
  readonly classes: number;
  /** onnxruntime wall time of every run at each scale (ms). */
  readonly ms: number[][];
}

export async function segmentSequence(dir: string, seg: ZooSegmenter): Promise<SegmentedSequence> {
  const seq = readSequence(dir);
  const meta = JSON.parse(readFileSync(join(dir, 'sequence.json'), 'utf8')) as {
    frames: number;
    segBase?: [number, number];
  };
  if (!meta.segBase) throw new Error(`${dir}: no segmentation inputs (render it again)`);
  const [bw, bh] = meta.segBase;
  const n = meta.frames;
  const g40 = readFileSync(join(dir, 'grey40.u8'));
  if (g40.length !== n * 40 * 30) throw new Error(`${dir}: grey40.u8 is not ${n}×40×30`);
  const grey40 = Array.from({ length: n }, (_, t) =>
    Float32Array.from(g40.subarray(t * 1200, (t + 1) * 1200), (v) => v / 255),
  );
  const maps: LabelMap[][] = [];
  const confidence: number[][] = [];
  const ms: number[][] = SCALES.map(() => []);
  const inputs = SCALES.map((s) => {
    const w = Math.max(8, Math.round(bw * s));
    const h = Math.max(8, Math.round(bh * s));
    return { w, h, bytes: readFileSync(join(dir, `bgr-s${Math.round(s * 100)}.u8`)) };
  });
  for (let t = 0; t < n; t++) {
    const row: LabelMap[] = [];
    const conf: number[] = [];
    for (const [si, { w, h, bytes }] of inputs.entries()) {
      const out = await seg.segment(bytes.subarray(t * w * h * 3, (t + 1) * w * h * 3), w, h);
      ms[si]?.push(out.ms);
      row.push(resizeLabels(out.labels, bw, bh));
      conf.push(out.confidence);
    }
    maps.push(row);
    confidence.push(conf);
  }
  const truth = seq.labels.map((l) => resizeLabels(l, bw, bh));
  return { name: seq.name, grey: seq.frames, grey40, maps, confidence, truth, classes: seg.classes, ms };
}
