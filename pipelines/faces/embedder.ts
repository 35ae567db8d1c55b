import * as ort from 'onnxruntime-node';
import type { InferenceResult } from '../../models/serving.ts';
import { CROP_SIDE } from './crops.ts';

/** Runs a model by name (the registry's `run`, or a bare session in a benchmark). */
export type RunModel = (feeds: Record<string, ort.Tensor>) => Promise<InferenceResult>;

export interface TrackEmbedding {
  readonly embedding: Float32Array;
  readonly model: string;
}

/**
 * The face-track model's input: up to `seqLen` crops, evenly spread over the track when it has more, each
 * area-downscaled from CROP_SIDE to `inputSize` and scaled to 0..1, plus a mask marking the real frames
 * (manifest of models/zoo/face-track: inputs `crops` [batch, T, S, S] and `mask` [batch, T]).
 */
export class TrackEmbedder {
  constructor(
    private readonly run: RunModel,
    readonly seqLen: number,
    readonly inputSize: number,
  ) {
    if (CROP_SIDE % inputSize !== 0) throw new Error(`crop side ${CROP_SIDE} is not a multiple of ${inputSize}`);
  }

  async embed(crops: readonly Uint8Array[]): Promise<TrackEmbedding> {
    const [x, m] = this.feeds(crops);
    const result = await this.run({
      crops: new ort.Tensor('float32', x, [1, this.seqLen, this.inputSize, this.inputSize]),
      mask: new ort.Tensor('float32', m, [1, this.seqLen]),
    });
    const out = result.outputs.embedding;
    if (out === undefined) throw new Error(`${result.model} has no output "embedding"`);
    return { embedding: Float32Array.from(out.data as Float32Array), model: result.model };
  }

  feeds(crops: readonly Uint8Array[]): [Float32Array, Float32Array] {
    if (crops.length === 0) throw new Error('a track needs at least one crop to embed');
    const s = this.inputSize;
    const k = CROP_SIDE / s;
    const x = new Float32Array(this.seqLen * s * s);
    const m = new Float32Array(this.seqLen);
    const n = Math.min(this.seqLen, crops.length);
    for (let t = 0; t < n; t++) {
      const src = crops[n === 1 ? 0 : Math.round((t * (crops.length - 1)) / (n - 1))] as Uint8Array;
      m[t] = 1;
      for (let y = 0; y < s; y++) {
        for (let xx = 0; xx < s; xx++) {
          let sum = 0;
          for (let dy = 0; dy < k; dy++) {
            for (let dx = 0; dx < k; dx++) sum += src[(y * k + dy) * CROP_SIDE + xx * k + dx] ?? 0;
          }
          x[t * s * s + y * s + xx] = sum / (k * k) / 255;
        }
      }
    }
    return [x, m];
  }
}
