import type { Region } from '../../storage/attention-events.ts';

export interface HysteresisSettings {
  /** A frame counts towards an episode when its score reaches this. */
  readonly enter: number;
  /** Inside an episode, a frame counts against it only below this (enter > exit: the hysteresis band). */
  readonly exit: number;
  /** Consecutive scored frames at or above `enter` before an episode starts (it is dated from the first). */
  readonly startFrames: number;
  /** Consecutive scored frames below `exit` before it ends (dated at the last frame still inside). */
  readonly endFrames: number;
  /**
   * The attended region jumping by more than this many of its own diagonals (and staying there for `startFrames`
   * frames) is a switch to another target: the episode ends and a new one starts. 0 turns switching off.
   */
  readonly switchDiagonals?: number;
}

export interface EpisodeEvent {
  readonly kind: 'start' | 'peak' | 'end';
  readonly tNs: bigint;
  readonly score: number;
  readonly region: Region;
}

export interface Episode {
  readonly startTNs: bigint;
  readonly peakTNs: bigint;
  readonly endTNs: bigint;
  readonly peakScore: number;
  readonly meanScore: number;
  readonly region: Region;
  readonly frames: number;
}

interface Open {
  startTNs: bigint;
  lastInsideTNs: bigint;
  peakTNs: bigint;
  peakScore: number;
  region: Region;
  sum: number;
  frames: number;
  below: number;
  /** The region of the latest frame, reported with the end. */
  lastRegion: Region;
  /** Frames since the region jumped away, with the new place: a switch once it holds for `startFrames`. */
  away: { tNs: bigint; region: Region; score: number; n: number; sum: number; prevInsideTNs: bigint } | null;
}

/**
 * Turns per-frame attention scores into episodes with hysteresis, so that a score hovering around one threshold
 * neither flickers episodes on and off nor splits one episode in two. A `peak` event is emitted whenever the
 * episode's best score so far rises (the snippet keeps the best region); `start` is dated from the first frame
 * of the run that confirmed it, which the snippet's pre-capture buffer covers.
 */
export class EpisodeDetector {
  private run: { tNs: bigint; score: number; region: Region; sum: number; n: number } | null = null;
  private open: Open | null = null;

  constructor(private readonly s: HysteresisSettings) {
    if (!(s.exit <= s.enter)) throw new Error(`attention: exit threshold ${s.exit} is above enter ${s.enter}`);
  }

  get inside(): boolean {
    return this.open !== null;
  }

  /** One scored frame; returns the events it caused and, when an episode ended, the episode. */
  update(tNs: bigint, score: number, region: Region): { events: EpisodeEvent[]; ended: Episode | null } {
    const events: EpisodeEvent[] = [];
    const open = this.open;
    if (open === null) {
      if (score < this.s.enter) {
        this.run = null;
        return { events, ended: null };
      }
      if (this.run === null) this.run = { tNs, score, region, sum: 0, n: 0 };
      this.run.sum += score;
      this.run.n++;
      if (score > this.run.score) Object.assign(this.run, { score, region });
      if (this.run.n < this.s.startFrames) return { events, ended: null };
      const r = this.run;
      this.run = null;
      this.open = {
        startTNs: r.tNs,
        lastInsideTNs: tNs,
        peakTNs: tNs,
        peakScore: r.score,
        region: r.region,
        sum: r.sum,
        frames: r.n,
        below: 0,
        lastRegion: region,
        away: null,
      };
      events.push({ kind: 'start', tNs: r.tNs, score: r.score, region: r.region });
      events.push({ kind: 'peak', tNs, score: r.score, region: r.region });
      return { events, ended: null };
    }
    if (score < this.s.exit) {
      open.below++;
      if (open.below < this.s.endFrames) return { events, ended: null };
      this.open = null;
      events.push(endEvent(open));
      return { events, ended: episodeOf(open) };
    }
    open.below = 0;
    const switched = this.trackSwitch(open, tNs, score, region);
    if (switched) return switched;
    // While the region is away, this frame may belong to the next episode: it waits for the switch to hold.
    if (open.away !== null) return { events, ended: null };
    open.lastInsideTNs = tNs;
    open.lastRegion = region;
    open.sum += score;
    open.frames++;
    if (score > open.peakScore) {
      Object.assign(open, { peakScore: score, peakTNs: tNs, region });
      events.push({ kind: 'peak', tNs, score, region });
    }
    return { events, ended: null };
  }

  /**
   * A region far from the last one starts a candidate switch; it becomes one when the new place holds. The old
   * episode then ends at its last frame before the jump and the new one starts at the jump.
   */
  private trackSwitch(
    open: Open,
    tNs: bigint,
    score: number,
    region: Region,
  ): { events: EpisodeEvent[]; ended: Episode } | null {
    const k = this.s.switchDiagonals ?? 0;
    if (k <= 0) return null;
    const away = open.away;
    const anchor = away?.region ?? open.lastRegion;
    const far = distance(anchor, region) > k * diagonal(anchor);
    if (away === null) {
      if (far) open.away = { tNs, region, score, n: 1, sum: score, prevInsideTNs: open.lastInsideTNs };
      return null;
    }
    if (far) {
      // Back where it was (a glance away), or somewhere else again: either way this candidate did not hold.
      open.away =
        distance(open.lastRegion, region) > k * diagonal(open.lastRegion)
          ? { tNs, region, score, n: 1, sum: score, prevInsideTNs: open.lastInsideTNs }
          : null;
      return null;
    }
    away.n++;
    away.sum += score;
    away.region = region;
    if (score > away.score) away.score = score;
    if (away.n < this.s.startFrames) return null;
    const ended: Episode = {
      startTNs: open.startTNs,
      peakTNs: open.peakTNs,
      endTNs: away.prevInsideTNs,
      peakScore: open.peakScore,
      meanScore: open.sum / open.frames,
      region: open.region,
      frames: open.frames,
    };
    const events: EpisodeEvent[] = [
      { kind: 'end', tNs: away.prevInsideTNs, score: open.peakScore, region: open.lastRegion },
      { kind: 'start', tNs: away.tNs, score: away.score, region },
      { kind: 'peak', tNs, score: away.score, region },
    ];
    this.open = {
      startTNs: away.tNs,
      lastInsideTNs: tNs,
      peakTNs: tNs,
      peakScore: away.score,
      region,
      sum: away.sum,
      frames: away.n,
      below: 0,
      lastRegion: region,
      away: null,
    };
    return { events, ended };
  }

  /** End of input: an open episode ends at its last frame inside. */
  flush(): { events: EpisodeEvent[]; ended: Episode | null } {
    const open = this.open;
    this.open = null;
    this.run = null;
    if (open === null) return { events: [], ended: null };
    return { events: [endEvent(open)], ended: episodeOf(open) };
  }
}

function centre(r: Region): [number, number] {
  return [r.x + r.w / 2, r.y + r.h / 2];
}

function distance(a: Region, b: Region): number {
  const [ax, ay] = centre(a);
  const [bx, by] = centre(b);
  return Math.hypot(ax - bx, ay - by);
}

function diagonal(r: Region): number {
  return Math.max(1, Math.hypot(r.w, r.h));
}

/** A closed episode ends at its last frame inside the region. */
function episodeOf(open: Open): Episode {
  return {
    startTNs: open.startTNs,
    peakTNs: open.peakTNs,
    endTNs: open.lastInsideTNs,
    peakScore: open.peakScore,
    meanScore: open.sum / open.frames,
    region: open.region,
    frames: open.frames,
  };
}

function endEvent(open: Open): EpisodeEvent {
  return { kind: 'end', tNs: open.lastInsideTNs, score: open.peakScore, region: open.lastRegion };
}
