/**
 * The wearer's answers to label requests → a new personal head version. A label names an emotionship record and
 * the emotion the wearer says it was; the record keeps the embedding and population logits it was detected with,
 * so no frames are needed. Takes the labels as an argument: the `labels` table (active-learning issue, migration
 * 007) or a phone command can supply them.
 */
import type { Db } from '../../storage/db.ts';
import { EmotionshipRepository } from '../../storage/emotionship.ts';
import { PersonalHeadRepository } from '../../storage/personal-heads.ts';
import {
  accuracy,
  DEFAULT_FIT,
  type FitOptions,
  fitHead,
  type LabelledExample,
  meanLoss,
  zeroHead,
} from './personal-head.ts';

export interface WearerLabel {
  readonly recordId: string;
  readonly emotion: string;
}

export interface PersonaliseResult {
  readonly version: number;
  readonly examples: number;
  readonly trainAccuracyBefore: number;
  readonly trainAccuracyAfter: number;
  readonly lossBefore: number;
  readonly lossAfter: number;
}

/**
 * Fits a head for `model` on the labelled records (fine-tuning the active head when it was trained on the same
 * base model) and stores it as the next version, active. Throws when no label names a usable record.
 */
export function personalise(
  db: Db,
  model: string,
  labels: readonly WearerLabel[],
  classes: readonly string[],
  options: FitOptions = DEFAULT_FIT,
): PersonaliseResult {
  const features = new EmotionshipRepository(db).features(labels.map((l) => l.recordId));
  const examples: LabelledExample[] = [];
  const bases = new Set<string>();
  for (const l of labels) {
    const f = features.get(l.recordId);
    const label = classes.indexOf(l.emotion);
    if (!f || label < 0 || !f.model.startsWith(`${model}@`)) continue;
    examples.push({ embedding: f.embedding, logits: f.logits, label });
    bases.add(f.model);
  }
  if (examples.length === 0) throw new Error(`no label names a stored ${model} record with an embedding`);
  if (bases.size > 1) throw new Error(`labels span several model versions (${[...bases].join(', ')}): label one`);
  const base = [...bases][0] as string;
  const heads = new PersonalHeadRepository(db);
  const active = heads.active(model);
  const dim = examples[0]?.embedding.length ?? 0;
  const start = active && active.base === base && active.head.dim === dim ? active.head : zeroHead(classes.length, dim);
  const lossBefore = meanLoss(start, examples);
  const before = accuracy(start, examples);
  const { head } = fitHead(start, examples, options);
  const metrics = {
    lossBefore,
    lossAfter: meanLoss(head, examples),
    trainAccuracyBefore: before,
    trainAccuracyAfter: accuracy(head, examples),
  };
  const version = heads.save(model, base, head, active?.version ?? null, examples.length, metrics);
  return { version, examples: examples.length, ...metrics };
}
