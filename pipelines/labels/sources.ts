import type { Db } from '../../storage/db.ts';
import type { LabelTargetKind } from '../../storage/labels.ts';
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
 * Where candidates come from: one source per kind of record (snippets today; emotion records and faces when
 * their stages land: each gives its class probabilities, and several model versions' outputs as a committee).
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
