import type { Db } from '../../storage/db.ts';
import { floatsOf } from '../../storage/emotionship.ts';
import type { LabelTargetKind } from '../../storage/labels.ts';
import type { StoredHead } from '../../storage/personal-heads.ts';
import { headLogits, softmax } from '../emotion/personal-head.ts';
import type { LabelCandidate } from './label-queue.ts';

/** A stored record the queue may ask about, with the question that would be put to the wearer. */
export interface AskableRecord extends LabelCandidate {
  readonly kind: LabelTargetKind;
  readonly question: string;
  /** One answer per class, in the order of `probabilities`. */
  readonly options: readonly string[];
  /** name@version of the model whose output the probabilities are. */
  readonly model: string | null;
}

/**
 * Where candidates come from: one source per kind of record (snippets, emotion records; faces when their stage
 * offers a question): each gives its class probabilities, and several model versions' outputs as a committee.
 */
export interface CandidateSource {
  readonly kind: LabelTargetKind;
  /** Up to `limit` records not yet asked about, newest first. */
  candidates(limit: number): AskableRecord[];
}

export const SNIPPET_QUESTION = 'Was this moment worth keeping?';
export const SNIPPET_OPTIONS = ['yes', 'no'] as const;

/**
 * Snippets: the recorder's score says how sure the attention model was that the moment mattered; as a
 * probability of "worth keeping" (clamped to [0, 1]) it makes a two-class question the wearer can answer.
 */
export function snippetSource(db: Db): CandidateSource {
  const select = db.prepare(
    `SELECT id, score, models FROM snippets
     WHERE id NOT IN (SELECT target_id FROM labels WHERE target_kind = 'snippet')
     ORDER BY created_ms DESC, id LIMIT ?`,
  );
  return {
    kind: 'snippet',
    candidates: (limit) =>
      (select.all(limit) as { id: string; score: number; models: string }[]).map((row) => {
        const p = Math.min(Math.max(row.score, 0), 1);
        const models = JSON.parse(row.models) as string[];
        return {
          kind: 'snippet',
          id: row.id,
          probabilities: [p, 1 - p],
          question: SNIPPET_QUESTION,
          options: SNIPPET_OPTIONS,
          model: models[0] ?? null,
        };
      }),
  };
}

export const EMOTION_QUESTION = 'How were you feeling here?';

export interface EmotionSourceOptions {
  /** The emotion classes of a model version (name@version) in its output order, from its manifest. */
  readonly labelsOf: (model: string) => readonly string[] | undefined;
  /** The wearer's active personal head of a model (by name), when personalisation has trained one. */
  readonly activeHead?: (name: string) => StoredHead | null;
}

interface EmotionRow {
  id: string;
  model: string;
  logits: Buffer;
  embedding: Buffer | null;
  snippet_id: string | null;
}

/**
 * Emotionship records: the question is which of the model's emotions the wearer felt, the options are the
 * manifest's classes, and the probabilities are what the device believes now — the softmax of the stored
 * population logits, through the wearer's active personal head when it was trained on the record's model
 * version (the stage applies the same head, so the queue is unsure where the device is). Like the snippets'
 * [p, 1 − p], each row sums to 1 in the order of `options`, so every criterion reads both kinds the same way.
 * A record whose model's classes are unknown, or whose logits do not match them, is not asked about.
 */
export function emotionSource(db: Db, options: EmotionSourceOptions): CandidateSource {
  const select = db.prepare(
    `SELECT id, model, logits, embedding, snippet_id FROM emotionship
     WHERE logits IS NOT NULL AND id NOT IN (SELECT target_id FROM labels WHERE target_kind = 'emotionship')
     ORDER BY created_ms DESC, id LIMIT ?`,
  );
  return {
    kind: 'emotionship',
    candidates: (limit) => {
      const out: AskableRecord[] = [];
      const heads = new Map<string, StoredHead | null>(); // one lookup per model a pick, not per record
      const headOf = (name: string) => {
        if (!heads.has(name)) heads.set(name, options.activeHead?.(name) ?? null);
        return heads.get(name) ?? null;
      };
      for (const row of select.all(limit) as EmotionRow[]) {
        const classes = options.labelsOf(row.model);
        const logits = floatsOf(row.logits);
        if (classes === undefined || classes.length !== logits.length) continue;
        const embedding = row.embedding ? floatsOf(row.embedding) : null;
        const name = row.model.split('@')[0] ?? row.model;
        const head = embedding ? headOf(name) : null;
        const usable = head && embedding && head.base === row.model && head.head.dim === embedding.length;
        const probs = softmax(usable ? headLogits(head.head, embedding, logits) : logits);
        out.push({
          kind: 'emotionship',
          id: row.id,
          probabilities: Array.from(probs),
          ...(embedding ? { embedding: Array.from(embedding) } : {}),
          question: row.snippet_id ? `${EMOTION_QUESTION} (snippet ${row.snippet_id})` : EMOTION_QUESTION,
          options: classes,
          model: row.model,
        });
      }
      return out;
    },
  };
}
