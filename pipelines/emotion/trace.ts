/**
 * A measurement aid: with GLANCE_EMOTION_TRACE=FILE the stage appends one JSON line per inference (time in ns,
 * the model's probabilities and the re-weighted ones the episode detector reads). tools/emotion/operating-point.ts
 * replays such traces through the episode detector to choose the stage's operating point on validation sessions.
 */
import { appendFileSync } from 'node:fs';

export interface TraceLine {
  readonly tNs: string;
  readonly raw: number[];
  readonly probs: number[];
}

export type InferenceTrace = (tNs: bigint, raw: ArrayLike<number>, probs: ArrayLike<number>) => void;

/** The trace writer the environment asks for, or null. */
export function inferenceTraceFromEnv(env: NodeJS.ProcessEnv = process.env): InferenceTrace | null {
  const file = env.GLANCE_EMOTION_TRACE;
  if (!file) return null;
  return (tNs, raw, probs) => {
    const line: TraceLine = { tNs: tNs.toString(), raw: Array.from(raw), probs: Array.from(probs) };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  };
}
