import { describe, expect, it } from 'vitest';
import { EpisodeDetector } from '../../../pipelines/attention/episodes.ts';

const R = { x: 10, y: 20, w: 30, h: 40 };
const settings = { enter: 0.6, exit: 0.4, startFrames: 3, endFrames: 2 };

function feed(scores: number[]) {
  const d = new EpisodeDetector(settings);
  const out = scores.map((s, i) => d.update(BigInt(i), s, { ...R, x: i }));
  const last = d.flush();
  return {
    events: [...out.flatMap((o) => o.events), ...last.events],
    ended: [...out, last].flatMap((o) => (o.ended ? [o.ended] : [])),
  };
}

describe('attention episodes with hysteresis', () => {
  it('starts after startFrames above enter, dated from the first, and ends after endFrames below exit', () => {
    const { events, ended } = feed([0.1, 0.7, 0.8, 0.9, 0.5, 0.5, 0.3, 0.2, 0.1]);
    expect(events.filter((e) => e.kind === 'start')).toEqual([expect.objectContaining({ kind: 'start', tNs: 1n })]);
    expect(ended).toHaveLength(1);
    // 0.5 is inside the band: it keeps the episode; it ends at the last frame above exit.
    expect(ended[0]).toMatchObject({ startTNs: 1n, peakTNs: 3n, endTNs: 5n, peakScore: 0.9, frames: 5 });
    expect(ended[0]?.region.x).toBe(3);
    expect(events.at(-1)).toMatchObject({ kind: 'end', tNs: 5n });
  });

  it('does not flicker: a score hovering around one threshold neither splits nor opens short episodes', () => {
    // Single dips below exit are shorter than endFrames; runs above enter shorter than startFrames never start.
    const hovering = [0.7, 0.7, 0.7, 0.35, 0.65, 0.35, 0.62, 0.5, 0.38, 0.55];
    expect(feed(hovering).ended).toHaveLength(1);
    expect(feed([0.7, 0.7, 0.3, 0.7, 0.7, 0.3]).ended).toHaveLength(0);
  });

  it('reports a rising peak as it happens and closes an open episode at the end of input', () => {
    const { events, ended } = feed([0.7, 0.7, 0.7, 0.8, 0.75, 0.95]);
    expect(events.filter((e) => e.kind === 'peak').map((e) => e.score)).toEqual([0.7, 0.8, 0.95]);
    expect(ended[0]).toMatchObject({ endTNs: 5n, peakTNs: 5n });
  });

  it('refuses an exit threshold above enter', () => {
    expect(() => new EpisodeDetector({ ...settings, exit: 0.7 })).toThrow(/exit threshold/);
  });
});

describe('attention switching targets', () => {
  const at = (x: number) => ({ x, y: 100, w: 40, h: 40 });
  const switching = { enter: 0.6, exit: 0.4, startFrames: 3, endFrames: 2, switchDiagonals: 1 };

  it('ends one episode and starts the next when the attended region jumps and stays', () => {
    const d = new EpisodeDetector(switching);
    const xs = [100, 102, 104, 106, 108, 400, 401, 402, 403, 404];
    const out = xs.map((x, i) => d.update(BigInt(i), 0.9, at(x)));
    const ended = [...out, d.flush()].flatMap((o) => (o.ended ? [o.ended] : []));
    expect(ended.map((e) => [e.startTNs, e.endTNs])).toEqual([
      [0n, 4n],
      [5n, 9n],
    ]);
  });

  it('keeps one episode through a pursuit and through a glance away that does not hold', () => {
    const d = new EpisodeDetector(switching);
    // A pursuit moves a little each frame; frame 5 glances away and comes back.
    const xs = [100, 110, 120, 130, 140, 400, 150, 160, 170];
    const out = xs.map((x, i) => d.update(BigInt(i), 0.9, at(x)));
    const ended = [...out, d.flush()].flatMap((o) => (o.ended ? [o.ended] : []));
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ startTNs: 0n, endTNs: 8n });
  });
});
