/**
 * The cause of an emotion: what the wearer looked at over the seconds before its onset. Each step carries the
 * class at the gaze — from the segmentation stage when it runs, else from the emotion model's own cause head —
 * and the attended region; the cause is the class the gaze rested on most (never "background"), its share of the
 * steps is the score, and the region is where it was seen last before the onset.
 */
import type { Box, EmotionCause } from '../../storage/emotionship.ts';

/** What a segmentation stage offers later stages: the class at a scene point, at (or just before) a time. */
export interface SegmentationView {
  classAt(tNs: bigint, x: number, y: number): { readonly label: string; readonly score: number } | null;
}

export interface CauseStep {
  readonly tNs: bigint;
  readonly region: Box | null;
  /** From segmentation, when it ran for this step. */
  segmentation: string | null;
  /** The cause head's class for this step (newest inference that covered it). */
  model: string | null;
}

export const BACKGROUND = 'background';

export function poolCause(steps: readonly CauseStep[], fromNs: bigint, toNs: bigint): EmotionCause | null {
  const inWindow = steps.filter((s) => s.tNs >= fromNs && s.tNs <= toNs);
  if (inWindow.length === 0) return null;
  const source: EmotionCause['source'] = inWindow.some((s) => s.segmentation !== null) ? 'segmentation' : 'model';
  const counts = new Map<string, number>();
  const lastRegion = new Map<string, Box | null>();
  for (const s of inWindow) {
    const label = source === 'segmentation' ? s.segmentation : s.model;
    if (label === null || label === BACKGROUND) continue;
    counts.set(label, (counts.get(label) ?? 0) + 1);
    lastRegion.set(label, s.region);
  }
  let best: string | null = null;
  for (const [label, n] of counts) if (best === null || n > (counts.get(best) ?? 0)) best = label;
  if (best === null) return null;
  return {
    label: best,
    score: (counts.get(best) ?? 0) / inWindow.length,
    region: lastRegion.get(best) ?? null,
    source,
  };
}
