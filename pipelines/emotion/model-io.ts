/** What the stage needs to know about the serving emotion model, read from its manifest. */
import type { Manifest } from '../../models/manifest.ts';
import type { StepShape } from './window.ts';

export interface EmotionModelIo extends StepShape {
  readonly stepHz: number;
  readonly withScene: boolean;
  readonly labels: readonly string[];
  readonly causeLabels: readonly string[];
  readonly embedding: number;
  /** Class shares of the model's held-out windows (its confusion matrix's rows), drawn as its training windows
   *  were: the prior its probabilities carry. Null when the manifest has no confusion matrix. */
  readonly trainingPrior: readonly number[] | null;
}

function priorOf(m: Manifest, classes: number): number[] | null {
  const confusion = m.metrics.confusion as { matrix?: unknown } | undefined;
  const rows = confusion?.matrix;
  if (!Array.isArray(rows) || rows.length !== classes) return null;
  const counts = rows.map((r) => (Array.isArray(r) ? r.reduce((a: number, v) => a + Number(v), 0) : Number.NaN));
  const total = counts.reduce((a, b) => a + b, 0);
  if (!(total > 0) || counts.some((c) => !Number.isFinite(c) || c <= 0)) return null;
  return counts.map((c) => c / total);
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
    trainingPrior: priorOf(m, labels.length),
  };
}
