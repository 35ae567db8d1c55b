import type { Db } from '../../storage/db.ts';
import { floatsOf } from '../../storage/emotionship.ts';

/** What retraining needs of an emotion record besides its id: the model's features for the labelled window. */
export interface RecordFeatures {
  /** name@version whose outputs these are (an embedding is only comparable within one version). */
  readonly model: string;
  /** The model's `embedding` output at the episode's peak (float32 values). */
  readonly embedding: number[];
  /** The population model's `logits` at the peak, in the order of the label's `options`. */
  readonly logits: number[];
}

/**
 * Adds `features` to each exported emotion label whose record still holds them, so the toolchain can fit a head
 * (or check one) on the wearer's answers without the frames, which never leave the device for this. Reads only
 * (the export opens the database read-only); a database from before emotion records has none to add.
 */
export function withRecordFeatures(db: Db, file: Record<string, unknown>): Record<string, unknown> {
  const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'emotionship'").get();
  const labels = file.labels as { target: { kind: string; id: string } }[];
  if (!hasTable) return file;
  const select = db.prepare('SELECT model, embedding, logits FROM emotionship WHERE id = ?');
  return {
    ...file,
    labels: labels.map((l) => {
      if (l.target.kind !== 'emotionship') return l;
      const r = select.get(l.target.id) as
        | { model: string; embedding: Buffer | null; logits: Buffer | null }
        | undefined;
      if (!r?.embedding || !r.logits) return l;
      const features: RecordFeatures = {
        model: r.model,
        embedding: Array.from(floatsOf(r.embedding)),
        logits: Array.from(floatsOf(r.logits)),
      };
      return { ...l, features };
    }),
  };
}
