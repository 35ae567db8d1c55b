import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** golden.json (tools/train/glance_train/golden.py): a few inputs and the outputs PyTorch gave for them. */
const tensorSchema = z.strictObject({
  dtype: z.literal('float32'),
  shape: z.array(z.number().int().min(0)),
  data: z.string().describe('base64 of the little-endian float32 values'),
});

const goldenSchema = z.strictObject({
  schemaVersion: z.literal(1),
  producer: z.string().optional(),
  tolerance: z.number().positive(),
  inputs: z.record(z.string(), tensorSchema),
  outputs: z.record(z.string(), tensorSchema),
});

export interface GoldenTensor {
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

export interface Golden {
  readonly tolerance: number;
  readonly inputs: Record<string, GoldenTensor>;
  readonly outputs: Record<string, GoldenTensor>;
}

function decode(t: z.infer<typeof tensorSchema>, name: string): GoldenTensor {
  const bytes = Buffer.from(t.data, 'base64');
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== count * 4)
    throw new Error(`golden tensor ${name}: ${bytes.length} bytes for shape [${t.shape}]`);
  // Copy into an aligned buffer: a Buffer's offset into Node's pool need not be a multiple of 4.
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = bytes.readFloatLE(i * 4);
  return { dims: t.shape, data };
}

export function parseGolden(text: string): Golden {
  const doc = goldenSchema.parse(JSON.parse(text));
  const map = (r: Record<string, z.infer<typeof tensorSchema>>) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, decode(v, k)]));
  return { tolerance: doc.tolerance, inputs: map(doc.inputs), outputs: map(doc.outputs) };
}

export function readGolden(file: string): Golden {
  return parseGolden(readFileSync(file, 'utf8'));
}

/** Largest |actual - expected| per golden output; a missing output or a shape mismatch counts as Infinity. */
export function compareOutputs(
  golden: Golden,
  actual: Record<string, { dims: readonly number[]; data: ArrayLike<number> }>,
): { maxAbsDiff: number; perOutput: Record<string, number> } {
  const perOutput: Record<string, number> = {};
  for (const [name, expected] of Object.entries(golden.outputs)) {
    const got = actual[name];
    if (!got || got.dims.join() !== expected.dims.join()) {
      perOutput[name] = Number.POSITIVE_INFINITY;
      continue;
    }
    let max = 0;
    for (let i = 0; i < expected.data.length; i++) {
      const d = Math.abs((got.data[i] ?? Number.NaN) - (expected.data[i] ?? 0));
      max = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(max, d);
    }
    perOutput[name] = max;
  }
  return { maxAbsDiff: Math.max(0, ...Object.values(perOutput)), perOutput };
}
