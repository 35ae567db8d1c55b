import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../../device/frames.ts';
import { readSessionManifest } from '../../device/session/format.ts';
import { SessionReplay } from '../../device/session/replay.ts';
import { SAMPLE } from '../helpers/cli.ts';

const lines = (f: string) => readFileSync(f, 'utf8').trim().split('\n');

describe('SessionReplay on the bundled sample', () => {
  it('decodes every frame of every stream with OpenCV, in timestamp order, with the recorded timestamps', async () => {
    const manifest = readSessionManifest(SAMPLE);
    const replay = new SessionReplay(SAMPLE, 'fast');
    const seen: Record<string, Pick<Frame, 'index' | 'tNs'>[]> = {};
    let previous = -1n;
    let ordered = true;
    for await (const f of replay.frames()) {
      if (f.tNs < previous) ordered = false;
      previous = f.tNs;
      const list = seen[f.stream] ?? [];
      list.push({ index: f.index, tNs: f.tNs });
      seen[f.stream] = list;
      expect(f.width).toBe(manifest.streams[f.stream]?.width);
      expect(f.height).toBe(manifest.streams[f.stream]?.height);
    }
    replay.close();
    expect(ordered).toBe(true);
    for (const [stream, meta] of Object.entries(manifest.streams)) {
      const ts = lines(join(SAMPLE, meta.timestamps ?? `${stream}.ts`));
      const frames = seen[stream] ?? [];
      expect(frames.length, stream).toBe(ts.length);
      expect(frames.map((f) => f.index)).toEqual(frames.map((_, i) => i));
      expect(frames.map((f) => f.tNs.toString())).toEqual(ts);
    }
    expect(replay.status().every((s) => s.state === 'ended')).toBe(true);
  });

  it('paces a replay in real time when asked', async () => {
    const replay = new SessionReplay(SAMPLE, 'realtime');
    const start = performance.now();
    let first: bigint | undefined;
    let last = 0n;
    for await (const f of replay.frames()) {
      first ??= f.tNs;
      last = f.tNs;
      if (f.tNs - first > 400_000_000n) break;
    }
    replay.close();
    const elapsedMs = performance.now() - start;
    // Released no earlier than capture time says (the lower bound is what pacing guarantees).
    expect(elapsedMs).toBeGreaterThanOrEqual(Number(last - (first ?? 0n)) / 1e6 - 5);
  });
});
