import AdmZip from 'adm-zip';
import { z } from 'zod';
import { BadInputError, messageOf } from '../errors.ts';
import { type NpyArray, parseNpy } from './npy.ts';

/**
 * A condensed dataset (`glance condense`, tools/train/glance_train/condense/store.py): one `.npz` holding `x`
 * (float32 synthetic samples), `y` (int64 class indices) and `meta` (UTF-8 JSON bytes, schema
 * `glance.condensed/1`). It is the one kind of training data the glasses hand to the phone: synthetic samples
 * and aggregate statistics, never a real record. So before it is queued, the file is checked to be exactly that
 * — a file that merely ends in `.npz` could be anything, including raw recordings.
 */
export const CONDENSED_SCHEMA = 'glance.condensed/1';

const metaSchema = z
  .object({
    schema: z.literal(CONDENSED_SCHEMA),
    dataset: z.object({ name: z.string().min(1), fingerprint: z.string().min(1) }).loose(),
    classes: z.array(z.string()).min(2),
    feature_shape: z.array(z.number().int().positive()).min(1),
    method: z.string().min(1),
    ipc: z.number().int().positive(),
  })
  .loose();

export type CondensedMeta = z.infer<typeof metaSchema>;

export interface CondensedSet {
  readonly meta: CondensedMeta;
  readonly records: number;
  /** Records per class, in class order. */
  readonly perClass: readonly number[];
}

const ENTRIES = ['meta.npy', 'x.npy', 'y.npy'] as const;

/** Parses and checks a condensed set; every refusal is a BadInputError naming the file and what was wrong. */
export function readCondensedSet(bytes: Buffer, label: string): CondensedSet {
  const fail = (why: string): never => {
    throw new BadInputError(`${label}: ${why}`);
  };
  let arrays: Map<string, NpyArray>;
  try {
    const zip = new AdmZip(bytes);
    const names = zip.getEntries().map((e) => e.entryName);
    const extra = names.filter((n) => !(ENTRIES as readonly string[]).includes(n));
    if (extra.length > 0) fail(`unexpected arrays ${extra.join(', ')} (a condensed set holds only x, y and meta)`);
    arrays = new Map();
    for (const name of ENTRIES) {
      const entry = zip.getEntry(name);
      if (!entry) fail(`no ${name.replace('.npy', '')} array (not a condensed set)`);
      arrays.set(name, parseNpy(entry?.getData() ?? Buffer.alloc(0)));
    }
  } catch (error) {
    if (error instanceof BadInputError) throw error;
    return fail(`not a readable .npz: ${messageOf(error)}`);
  }
  const meta = arrays.get('meta.npy') as NpyArray;
  const x = arrays.get('x.npy') as NpyArray;
  const y = arrays.get('y.npy') as NpyArray;
  if (meta.dtype !== '|u1' || meta.shape.length !== 1) fail(`meta is ${meta.dtype} ${fmt(meta.shape)}, not bytes`);
  let json: unknown;
  try {
    json = JSON.parse(meta.data.toString('utf8'));
  } catch (error) {
    fail(`meta is not JSON: ${messageOf(error)}`);
  }
  const parsed = metaSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fail(`meta.${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  const m = (parsed as { data: CondensedMeta }).data;
  if (x.dtype !== '<f4') fail(`x is ${x.dtype}, expected float32 (<f4)`);
  if (y.dtype !== '<i8' || y.shape.length !== 1) fail(`y is ${y.dtype} ${fmt(y.shape)}, expected int64 (N)`);
  const records = y.shape[0] ?? 0;
  if (records === 0) fail('no records');
  if (x.shape[0] !== records) fail(`x has ${x.shape[0]} records, y has ${records}`);
  if (fmt(x.shape.slice(1)) !== fmt(m.feature_shape)) {
    fail(`x's samples are ${fmt(x.shape.slice(1))}, meta.feature_shape says ${fmt(m.feature_shape)}`);
  }
  const perClass = new Array<number>(m.classes.length).fill(0);
  for (let i = 0; i < records; i++) {
    const c = Number(y.data.readBigInt64LE(i * 8));
    if (!(c >= 0 && c < m.classes.length)) fail(`y[${i}] = ${c} is not a class index (${m.classes.length} classes)`);
    perClass[c] = (perClass[c] ?? 0) + 1;
  }
  const xs = new Float32Array(x.data.buffer.slice(x.data.byteOffset, x.data.byteOffset + x.data.length));
  const bad = xs.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) fail(`x holds a non-finite value at flat index ${bad}`);
  return { meta: m, records, perClass };
}

const fmt = (shape: readonly number[]) => `(${shape.join(', ')})`;
