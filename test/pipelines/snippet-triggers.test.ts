import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MomentEvent } from '../../pipelines/snippets/recorder.ts';
import { tmp } from '../helpers/cli.ts';
import { recordSample, SETTINGS, sampleEpisodes } from './snippet-harness.ts';

const NS = 1_000_000_000n;

describe('snippets opened by more than one trigger', () => {
  it('keep recording until the last overlapping moment ends, whatever trigger ended first', async () => {
    const dataDir = tmp();
    const ep = sampleEpisodes()[0];
    if (!ep) throw new Error('the sample has no attention episode');
    const emotionEnd = ep.endNs + 3n * NS;
    const moments: MomentEvent[] = [
      { kind: 'start', tNs: ep.startNs, score: 0.8, trigger: 'attention' },
      { kind: 'start', tNs: ep.startNs + NS / 2n, score: 0.9, trigger: 'emotion' },
      { kind: 'end', tNs: ep.endNs, score: 0.8, trigger: 'attention' },
      { kind: 'end', tNs: emotionEnd, score: 0.9, trigger: 'emotion' },
    ];
    const { db, sceneTimes } = await recordSample({ dataDir, dbFile: join(dataDir, 'g.db'), moments });
    const clips = db.prepare('SELECT end_t_ns AS endTNs FROM snippets').safeIntegers(true).all() as {
      endTNs: bigint;
    }[];
    db.close();
    expect(clips).toHaveLength(1);
    const frameNs = sceneTimes[1] !== undefined && sceneTimes[0] !== undefined ? sceneTimes[1] - sceneTimes[0] : 0n;
    const wantEnd = emotionEnd + BigInt(SETTINGS.postSeconds * 1e9);
    const end = clips[0]?.endTNs ?? 0n;
    expect(end > wantEnd - 2n * frameNs && end <= wantEnd + 2n * frameNs).toBe(true);
  });
});
