import * as ort from 'onnxruntime-node';
import { compareOutputs, type Golden } from './golden.ts';
import type { Manifest, TensorSpec } from './manifest.ts';

function zeros(spec: TensorSpec): ort.Tensor {
  const dims = spec.shape.map((d) => (typeof d === 'number' ? d : 1));
  const n = dims.reduce((a, b) => a * b, 1);
  switch (spec.dtype) {
    case 'float32':
      return new ort.Tensor('float32', new Float32Array(n), dims);
    case 'int64':
      return new ort.Tensor('int64', new BigInt64Array(n), dims);
    case 'int32':
      return new ort.Tensor('int32', new Int32Array(n), dims);
    case 'uint8':
      return new ort.Tensor('uint8', new Uint8Array(n), dims);
    case 'int8':
      return new ort.Tensor('int8', new Int8Array(n), dims);
    case 'bool':
      return new ort.Tensor('bool', new Uint8Array(n), dims);
    case 'float16':
      return new ort.Tensor('float16', new Uint16Array(n), dims);
  }
}

/** Feeds for a warm-up run: the golden inputs when the model has them, else zeros with a batch of one. */
export function warmupFeeds(manifest: Manifest, golden: Golden | undefined): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const spec of manifest.inputs) {
    const g = golden?.inputs[spec.name];
    feeds[spec.name] = g ? new ort.Tensor('float32', g.data, g.dims) : zeros(spec);
  }
  return feeds;
}

export interface WarmupResult {
  readonly runs: number;
  readonly maxAbsDiff: number | undefined;
}

/**
 * Runs the model `runs` times (first-run allocations and kernel selection happen here, not on a wearer's frame).
 * Throws what onnxruntime throws; with golden data, throws when the outputs are further than its tolerance from
 * PyTorch's.
 */
export async function warmUp(
  session: ort.InferenceSession,
  manifest: Manifest,
  golden: Golden | undefined,
  runs: number,
): Promise<WarmupResult> {
  const feeds = warmupFeeds(manifest, golden);
  let maxAbsDiff: number | undefined;
  for (let i = 0; i < runs; i++) {
    const out = await session.run(feeds);
    if (i === 0 && golden) {
      const got = Object.fromEntries(
        Object.entries(out).map(([k, t]) => [k, { dims: t.dims, data: t.data as ArrayLike<number> }]),
      );
      const cmp = compareOutputs(golden, got);
      maxAbsDiff = cmp.maxAbsDiff;
      if (!(cmp.maxAbsDiff <= golden.tolerance)) {
        const worst = Object.entries(cmp.perOutput).sort((a, b) => b[1] - a[1])[0];
        throw new GoldenMismatchError(
          `outputs differ from golden.json by ${cmp.maxAbsDiff.toPrecision(3)} > ${golden.tolerance} (worst: ${worst?.[0]})`,
        );
      }
    }
  }
  return { runs, maxAbsDiff };
}

export class GoldenMismatchError extends Error {
  override readonly name = 'GoldenMismatchError';
}
