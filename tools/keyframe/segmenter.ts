import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { REPO_ROOT } from '../../device/paths.ts';
import { readTrustedKey } from '../../models/signing.ts';
import { verifyModelDir } from '../../models/verify.ts';
import { compareVersions } from '../../models/versions.ts';
import type { LabelMap } from '../../pipelines/schedulers/flow/warp-labels.ts';
import { bgrToPlanes } from '../../pipelines/segmentation/preprocess.ts';

const ROOT = REPO_ROOT;

/**
 * The segmentation model the scheduling policies' traces, tests and bench run: the version the daemon's
 * segmentation stage serves (the zoo's newest). resolution-policy 1.1.0 and keyframe 1.0.0 were trained with
 * 1.0.0; the traces were rebuilt with 1.1.0 (docs/schedulers.md §4). Keep it equal to `SEGMENTATION_VERSION` in
 * glance_train/keyframe/net_traces.py; a test checks it is the newest in the zoo.
 */
export const POLICY_SEGMENTATION_VERSION = '1.1.0';

/** One network run: the label map at the input's size, the mean winning probability, onnxruntime wall time. */
export interface Segmented {
  readonly labels: LabelMap;
  readonly confidence: number;
  readonly ms: number;
}

/**
 * The zoo's segmentation network in onnxruntime-node (batch 1, one thread), as the segmentation stage runs it:
 * BGR pixels/255 in NCHW planes, argmax over the logits at the input's size. For the toolchain's traces.
 */
export class ZooSegmenter {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly input: string,
    readonly model: string,
    readonly classes: number,
  ) {}

  static async open(zoo = join(ROOT, 'models/zoo'), version?: string): Promise<ZooSegmenter> {
    const v = version ?? readdirSync(join(zoo, 'segmentation')).sort(compareVersions).at(-1);
    if (!v) throw new Error(`no segmentation model in ${zoo}`);
    const verified = verifyModelDir(join(zoo, 'segmentation', v), [
      readTrustedKey(join(ROOT, 'models/keys/dev.pub.pem')),
    ]);
    const m = verified.manifest;
    const session = await ort.InferenceSession.create(verified.bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const classes = (m.labels?.logits as string[] | undefined)?.length ?? 0;
    if (classes < 2) throw new Error(`segmentation@${v}: manifest names no logits classes`);
    return new ZooSegmenter(session, m.inputs[0]?.name ?? 'image', `segmentation@${v}`, classes);
  }

  /** `bgr`: interleaved BGR bytes of a width×height image. */
  async segment(bgr: Uint8Array, width: number, height: number): Promise<Segmented> {
    const plane = width * height;
    const data = bgrToPlanes(bgr, width, height);
    const t0 = performance.now();
    const out = await this.session.run({ [this.input]: new ort.Tensor('float32', data, [1, 3, height, width]) });
    const ms = performance.now() - t0;
    const logits = Object.values(out)[0]?.data as Float32Array;
    const labels = new Uint8Array(plane);
    let conf = 0;
    for (let p = 0; p < plane; p++) {
      let best = 0;
      let max = logits[p] as number;
      for (let c = 1; c < this.classes; c++) {
        const v = logits[c * plane + p] as number;
        if (v > max) {
          max = v;
          best = c;
        }
      }
      let z = 0;
      for (let c = 0; c < this.classes; c++) z += Math.exp((logits[c * plane + p] as number) - max);
      labels[p] = best;
      conf += 1 / z;
    }
    return { labels: { width, height, data: labels }, confidence: conf / plane, ms };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** Nearest-neighbour resize of a label map (a smaller scale's result read at the base size, as classAt does). */
export function resizeLabels(map: LabelMap, width: number, height: number): LabelMap {
  if (map.width === width && map.height === height) return map;
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(map.height - 1, Math.floor((y * map.height) / height));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(map.width - 1, Math.floor((x * map.width) / width));
      out[y * width + x] = map.data[sy * map.width + sx] as number;
    }
  }
  return { width, height, data: out };
}
