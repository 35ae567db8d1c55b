import * as ort from 'onnxruntime-node';
import type { AsyncPupilDetector, GreyImage, PupilDetection } from './types.ts';

/**
 * The learnt pupil detector: the zoo's `pupil` network (models/zoo/pupil, see its manifest) on the same grey
 * buffer the classical detector reads. Pre-processing is the manifest's: the eye image resized to 64×64 with
 * area interpolation (a box mean, done here in JS so no Mat is made), pixels/255, NCHW. Post-processing: the
 * centre and axes are fractions of the image side (`x_px = x·side − 0.5`), the angle comes as (sin 2θ, cos 2θ),
 * and `open_logit` gives P(open).
 *
 * Why it is asynchronous: onnxruntime-node's `InferenceSession.run` returns a promise, and the registry (which
 * verifies the model's signature and swaps versions) only exposes that. The detector therefore takes its
 * inference as an injected `run(feeds)` — `(f) => registry.run('pupil', f)` on the device, a bare session in a
 * tool — and detects in batches: one run per batch amortises the per-call cost, which at 64×64 is most of it.
 */

/** What a `run` must return: the registry's `InferenceResult` fits as it is. */
export type CnnRun = (
  feeds: ort.InferenceSession.FeedsType,
) => Promise<{ readonly outputs: ort.InferenceSession.ReturnType; readonly model?: string }>;

export interface CnnPupilParams {
  /** Side of the network's square input (the manifest's `inputs[0].shape[2]`). */
  readonly inputSize: number;
  /** Below this P(open) the eye is closed and the pupil outputs are meaningless: no ellipse is reported. */
  readonly minOpen: number;
}

export const CNN_PUPIL_DEFAULTS: CnnPupilParams = { inputSize: 64, minOpen: 0.5 };

export class CnnPupilDetector implements AsyncPupilDetector {
  readonly name = 'cnn';
  /** `name@version` of the model that produced the last batch, when the runner reports it. */
  model: string | undefined;

  constructor(
    private readonly run: CnnRun,
    private readonly params: CnnPupilParams = CNN_PUPIL_DEFAULTS,
  ) {}

  async detect(image: GreyImage): Promise<PupilDetection> {
    return (await this.detectBatch([image]))[0] as PupilDetection;
  }

  /** One inference for all `images`; detections in the same order. Unusable images get no pupil. */
  async detectBatch(images: readonly GreyImage[]): Promise<PupilDetection[]> {
    const n = this.params.inputSize;
    const usable = images.filter(usableImage);
    if (usable.length === 0) return images.map(() => NO_PUPIL_CNN);
    const input = new Float32Array(usable.length * n * n);
    for (const [i, img] of usable.entries()) areaResize(img, n, input.subarray(i * n * n, (i + 1) * n * n));
    const result = await this.run({ eye: new ort.Tensor('float32', input, [usable.length, 1, n, n]) });
    this.model = result.model;
    const out = outputsOf(result.outputs);
    let k = 0;
    return images.map((img) => (usableImage(img) ? decode(out, k++, img, this.params.minOpen) : NO_PUPIL_CNN));
  }
}

const NO_PUPIL_CNN: PupilDetection = Object.freeze({ ellipse: null, confidence: 0, diameterPx: 0 });

function usableImage(img: GreyImage): boolean {
  return img.width >= 16 && img.height >= 16 && img.data.length >= img.width * img.height;
}

interface CnnOutputs {
  readonly centre: Float32Array;
  readonly axes: Float32Array;
  readonly angle: Float32Array;
  readonly openLogit: Float32Array;
}

function outputsOf(o: ort.InferenceSession.ReturnType): CnnOutputs {
  const get = (name: string): Float32Array => {
    const t = o[name];
    if (t === undefined || !(t.data instanceof Float32Array)) throw new Error(`pupil model: no float32 ${name} output`);
    return t.data;
  };
  return { centre: get('centre'), axes: get('axes'), angle: get('angle'), openLogit: get('open_logit') };
}

/**
 * Confidence is P(open): the network was trained to say whether the pupil is measurable, which is exactly what
 * confidence means downstream (blinks are confidence dips). The heat map that places the centre is not an output
 * of the exported graph, so its peak cannot add to it.
 */
function decode(o: CnnOutputs, i: number, img: GreyImage, minOpen: number): PupilDetection {
  const pOpen = 1 / (1 + Math.exp(-(o.openLogit[i] as number)));
  const confidence = Number.isFinite(pOpen) ? pOpen : 0;
  if (confidence < minOpen) return { ellipse: null, confidence, diameterPx: 0 };
  const side = img.width; // the network sees a square; axes are fractions of its side
  const a = (o.axes[2 * i] as number) * side;
  const b = (o.axes[2 * i + 1] as number) * side;
  const theta = Math.atan2(o.angle[2 * i] as number, o.angle[2 * i + 1] as number) / 2;
  // Axes come from two independent outputs: name the larger one major, turning the angle with it.
  const [major, minor, turn] = a >= b ? [a, b, 0] : [b, a, 90];
  const angleDeg = ((((theta * 180) / Math.PI + turn) % 180) + 180) % 180;
  const ellipse = {
    cx: (o.centre[2 * i] as number) * img.width - 0.5,
    cy: (o.centre[2 * i + 1] as number) * img.height - 0.5,
    major,
    minor,
    angleDeg,
  };
  return { ellipse, confidence, diameterPx: major };
}

/**
 * OpenCV's INTER_AREA for a shrink, pixels/255 into `out` (n×n): each output pixel is the mean of the input
 * area it covers, partial pixels weighted by coverage. Separable: per-axis weights, then rows, then columns.
 */
export function areaResize(img: GreyImage, n: number, out: Float32Array): void {
  const wx = areaWeights(img.width, n);
  const wy = areaWeights(img.height, n);
  const rows = new Float64Array(img.height * n); // every input row shrunk to n columns
  for (let y = 0; y < img.height; y++) {
    const base = y * img.width;
    for (const [ox, span] of wx.entries()) {
      let s = 0;
      for (let k = 0; k < span.w.length; k++) s += (img.data[base + span.from + k] as number) * (span.w[k] as number);
      rows[y * n + ox] = s;
    }
  }
  for (const [oy, span] of wy.entries()) {
    for (let ox = 0; ox < n; ox++) {
      let s = 0;
      for (let k = 0; k < span.w.length; k++) s += (rows[(span.from + k) * n + ox] as number) * (span.w[k] as number);
      out[oy * n + ox] = s / 255;
    }
  }
}

/** For each of `n` output cells, the input pixels it covers and their weights (summing to 1). */
function areaWeights(size: number, n: number): { from: number; w: Float64Array }[] {
  const scale = size / n;
  return Array.from({ length: n }, (_, o) => {
    const start = o * scale;
    const end = (o + 1) * scale;
    const from = Math.floor(start);
    const to = Math.min(size, Math.ceil(end - 1e-9));
    const w = new Float64Array(to - from);
    for (let p = from; p < to; p++) w[p - from] = (Math.min(end, p + 1) - Math.max(start, p)) / scale;
    return { from, w };
  });
}
