import { SEGMENTATION_SCALES, type SegmentationScale } from './config.ts';

/** What a run did, for the run summary (`stageStats.segmentation`). Times in ms, rounded to 0.1. */
export type SegmentationReport = {
  readonly model: string | null;
  readonly policy: string;
  readonly framesSeen: number;
  /** Frames the network ran on (key frames). */
  readonly framesSegmented: number;
  /** framesSegmented / framesSeen. */
  readonly keyShare: number;
  /** Frames per chosen scale, and `reuse` (the last key result stood): the counts sum to framesSeen. */
  readonly scales: Record<string, number>;
  /** Reuse frames whose map was warped by the policy's optical flow (the rest kept the key's map as it was). */
  readonly framesWarped: number;
  /** Network time spent (onnxruntime run, measured per key frame). */
  readonly modelMs: number;
  /** Estimated network time had every frame run at full scale; null when no timing allows an estimate. */
  readonly everyFrameFullScaleMs: number | null;
  /** How the estimate was made: mean measured full-scale time, or another scale's via the manifest's cost table. */
  readonly fullScaleMsFrom: 'measured' | 'manifest-cost-ratio' | null;
  /** everyFrameFullScaleMs − modelMs. */
  readonly modelMsSaved: number | null;
  /** Time in the policy's decisions (flow, features, its own model) and in warping label maps. */
  readonly policyMs: number;
  readonly warpMs: number;
  /** modelMsSaved − policyMs − warpMs: what the schedule saved once its own cost is paid. */
  readonly netMsSaved: number | null;
  /** Battery level the policy last saw, null when the daemon had none. */
  readonly battery: number | null;
  readonly byScale: Record<string, { frames: number; modelMs: number }>;
  /** The policy's own figures (e.g. the key scheduler's policy-chosen keys), prefixed `policy.`. */
  readonly [policyStat: `policy.${string}`]: number | string | null;
};

/** Counts per frame what the segmentation stage did; `report()` turns it into the run summary's figures. */
export class SegmentationTally {
  private seen = 0;
  private reused = 0;
  private warped = 0;
  private policyMs = 0;
  private warpMs = 0;
  private readonly byScale = new Map<SegmentationScale, { frames: number; modelMs: number }>();

  policy(ms: number): void {
    this.seen++;
    this.policyMs += ms;
  }

  run(scale: SegmentationScale, ms: number): void {
    const s = this.byScale.get(scale) ?? { frames: 0, modelMs: 0 };
    this.byScale.set(scale, { frames: s.frames + 1, modelMs: s.modelMs + ms });
  }

  reuse(warped: boolean, ms: number): void {
    this.reused++;
    if (warped) this.warped++;
    this.warpMs += ms;
  }

  report(about: {
    model: string | null;
    policy: string;
    costRatio: Partial<Record<SegmentationScale, number>>;
    battery: number | null;
    policyStats: Record<string, number | string | null>;
  }): SegmentationReport {
    let frames = 0;
    let modelMs = 0;
    const byScale: SegmentationReport['byScale'] = {};
    const scales: Record<string, number> = {};
    for (const scale of SEGMENTATION_SCALES) {
      const s = this.byScale.get(scale) ?? { frames: 0, modelMs: 0 };
      scales[String(scale)] = s.frames;
      if (s.frames === 0) continue;
      frames += s.frames;
      modelMs += s.modelMs;
      byScale[String(scale)] = { frames: s.frames, modelMs: round(s.modelMs) };
    }
    scales.reuse = this.reused;
    const full = this.fullScaleMs(about.costRatio);
    const everyFrame = full === null ? null : full.ms * this.seen;
    const saved = everyFrame === null ? null : everyFrame - modelMs;
    const policyStats = Object.fromEntries(Object.entries(about.policyStats).map(([k, v]) => [`policy.${k}`, v]));
    return {
      model: about.model,
      policy: about.policy,
      framesSeen: this.seen,
      framesSegmented: frames,
      keyShare: this.seen === 0 ? 0 : Math.round((frames / this.seen) * 1000) / 1000,
      scales,
      framesWarped: this.warped,
      modelMs: round(modelMs),
      everyFrameFullScaleMs: everyFrame === null ? null : round(everyFrame),
      fullScaleMsFrom: full?.from ?? null,
      modelMsSaved: saved === null ? null : round(saved),
      policyMs: round(this.policyMs),
      warpMs: round(this.warpMs),
      netMsSaved: saved === null ? null : round(saved - this.policyMs - this.warpMs),
      battery: about.battery,
      byScale,
      ...policyStats,
    };
  }

  /**
   * Mean network time of one full-scale frame: measured when any frame ran at full scale; otherwise the most
   * used scale's mean divided by its cost relative to full scale in the manifest's table; otherwise unknown.
   */
  private fullScaleMs(
    costRatio: Partial<Record<SegmentationScale, number>>,
  ): { ms: number; from: 'measured' | 'manifest-cost-ratio' } | null {
    const full = this.byScale.get(1);
    if (full && full.frames > 0) return { ms: full.modelMs / full.frames, from: 'measured' };
    const [most] = [...this.byScale].sort((a, b) => b[1].frames - a[1].frames);
    const ratio = most ? costRatio[most[0]] : undefined;
    if (!most || ratio === undefined || !(ratio > 0)) return null;
    return { ms: most[1].modelMs / most[1].frames / ratio, from: 'manifest-cost-ratio' };
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
