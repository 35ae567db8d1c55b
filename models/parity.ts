import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { compareOutputs, readGolden } from './golden.ts';

export interface ParityReport {
  readonly ok: boolean;
  readonly maxAbsDiff: number;
  readonly perOutput: Record<string, number>;
  readonly tolerance: number;
  readonly message: string;
}

/**
 * Runs a model directory's golden inputs through onnxruntime-node (the device's runtime) and compares with the
 * outputs PyTorch gave. Needs only model.onnx and golden.json: the export checks parity before anything is signed.
 */
export async function checkParity(dir: string, tolerance?: number): Promise<ParityReport> {
  const golden = readGolden(join(dir, 'golden.json'));
  const limit = tolerance ?? golden.tolerance;
  const session = await ort.InferenceSession.create(readFileSync(join(dir, 'model.onnx')), {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
  });
  try {
    const feeds = Object.fromEntries(
      Object.entries(golden.inputs).map(([k, t]) => [k, new ort.Tensor('float32', t.data, t.dims)]),
    );
    const out = await session.run(feeds);
    const actual = Object.fromEntries(
      Object.entries(out).map(([k, t]) => [k, { dims: t.dims, data: t.data as ArrayLike<number> }]),
    );
    const { maxAbsDiff, perOutput } = compareOutputs(golden, actual);
    const ok = maxAbsDiff <= limit;
    const message = ok
      ? `max |diff| ${maxAbsDiff.toPrecision(3)} <= ${limit}`
      : `outputs over tolerance: ${Object.entries(perOutput)
          .filter(([, d]) => d > limit)
          .map(([k, d]) => `${k} ${d.toPrecision(3)}`)
          .join(', ')}`;
    return { ok, maxAbsDiff, perOutput, tolerance: limit, message };
  } finally {
    await session.release();
  }
}
