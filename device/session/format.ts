import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BadInputError, messageOf } from '../errors.ts';
import { STREAM_NAMES, type StreamName } from '../frames.ts';

/** `session.json`: the contract shared by recording, replay and the synthetic generator (DESIGN.md). */
const streamSchema = z.object({
  file: z.string().min(1),
  timestamps: z.string().min(1).optional(),
  fps: z.number().positive(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
});

export const sessionManifestSchema = z.object({
  id: z.string().min(1),
  device: z.string().min(1),
  startedWallMs: z.number().int(),
  streams: z.partialRecord(z.enum(STREAM_NAMES), streamSchema),
  serial: z.string().optional(),
  synthetic: z.boolean().optional(),
  complete: z.boolean().optional(),
});

export type SessionManifest = z.infer<typeof sessionManifestSchema>;
export type StreamManifest = z.infer<typeof streamSchema>;

export interface SessionStreamFiles {
  readonly stream: StreamName;
  readonly video: string;
  readonly timestamps: string;
  readonly meta: StreamManifest;
}

export function readSessionManifest(dir: string): SessionManifest {
  const file = join(dir, 'session.json');
  if (!existsSync(file)) throw new BadInputError(`session ${dir} has no session.json`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new BadInputError(`${file} is not valid JSON: ${messageOf(error)}`);
  }
  const parsed = sessionManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new BadInputError(`${file} is invalid: ${first?.path.join('.') || '(root)'}: ${first?.message}`);
  }
  return parsed.data;
}

export function sessionStreams(dir: string, manifest: SessionManifest): SessionStreamFiles[] {
  const out: SessionStreamFiles[] = [];
  for (const stream of STREAM_NAMES) {
    const meta = manifest.streams[stream];
    if (meta === undefined) continue;
    const video = join(dir, meta.file);
    const timestamps = join(dir, meta.timestamps ?? `${stream}.ts`);
    for (const f of [video, timestamps]) {
      if (!existsSync(f)) throw new BadInputError(`session ${dir}: ${stream} file ${f} is missing`);
    }
    out.push({ stream, video, timestamps, meta });
  }
  if (out.length === 0) throw new BadInputError(`session ${dir} lists no streams`);
  return out;
}

/** Reads a `<stream>.ts` file: one non-negative integer (ns) a line, strictly increasing. */
export function readTimestamps(file: string): BigInt64Array {
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const out = new BigInt64Array(lines.length);
  let previous = -1n;
  for (let i = 0; i < lines.length; i++) {
    const text = (lines[i] ?? '').trim();
    if (!/^\d{1,19}$/.test(text)) throw new BadInputError(`${file}:${i + 1}: not a timestamp: ${JSON.stringify(text)}`);
    const t = BigInt(text);
    if (t <= previous) throw new BadInputError(`${file}:${i + 1}: timestamp ${t} does not increase`);
    out[i] = t;
    previous = t;
  }
  return out;
}
