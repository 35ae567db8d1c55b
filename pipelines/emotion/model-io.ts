/** What the stage needs to know about the serving emotion model, read from its manifest. */
import type { Manifest } from '../../models/manifest.ts';
import type { StepShape } from './window.ts';

export interface EmotionModelIo extends StepShape {
  readonly stepHz: number;
  readonly withScene: boolean;
  readonly labels: readonly string[];
  readonly causeLabels: readonly string[];
  readonly embedding: number;
}

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`emotion model manifest: ${what} is not a number`);
  return v;
}

/** Throws with the reason when the manifest is not an emotion model the stage can drive. */
export function emotionModelIo(m: Manifest): EmotionModelIo {
  const byName = new Map(m.inputs.map((i) => [i.name, i]));
  const eye = byName.get('eye');
  const pupil = byName.get('pupil');
  if (m.task !== 'emotion' || !eye || !pupil) {
    throw new Error(`${m.name}@${m.version} is not an emotion model (task ${m.task}, inputs ${[...byName.keys()]})`);
  }
  const window = (eye.normalisation?.window ?? {}) as Record<string, unknown>;
  const pn = pupil.normalisation ?? {};
  const emb = m.outputs.find((o) => o.name === 'embedding');
  const labels = m.labels.logits;
  if (!Array.isArray(labels) || labels.length === 0) throw new Error(`${m.name}: manifest has no logits labels`);
  const causeLabels = m.labels.cause_logits;
  return {
    steps: num(eye.shape[1], 'eye steps'),
    size: num(eye.shape[2], 'eye size'),
    stepHz: num(window.stepHz, 'eye window stepHz'),
    pupilMeanMm: num(pn.pupilMeanMm, 'pupilMeanMm'),
    pupilStdMm: num(pn.pupilStdMm, 'pupilStdMm'),
    holdBelow: num(pn.holdBelowConfidence, 'holdBelowConfidence'),
    withScene: byName.has('scene'),
    labels: labels as string[],
    causeLabels: Array.isArray(causeLabels) ? (causeLabels as string[]) : [],
    embedding: emb ? num(emb.shape[1], 'embedding width') : 0,
  };
}
