import type { Db } from '../../storage/db.ts';
import type { StoredLabel } from '../../storage/labels.ts';
import { Outbox } from '../../storage/outbox.ts';
import { PersonalHeadRepository } from '../../storage/personal-heads.ts';
import { ANSWER_FIT, type FitOptions } from '../emotion/personal-head.ts';
import { personalise, type WearerLabel } from '../emotion/personalise.ts';

/**
 * The wearer's emotion answers → the personal emotion head, and what the phone hears of it. Every `every`-th
 * answer about records of one emotion model version refits the head on all of that version's answers (the
 * embedding and population logits stored with each record, the answered class) and activates it as the next
 * version; `cmd/personal-head/rollback` returns to the version active before. Each change is an
 * `events/personal-head` message (schema personal-head.v1), written in the transaction that makes the change.
 */

export const PERSONAL_HEAD_EVENT = 'personal-head';

export interface PersonalHeadEvent {
  readonly schema: 'personal-head.v1';
  readonly model: string;
  readonly action: 'trained' | 'rollback';
  /** The head now active; null: none (the population model decides alone). */
  readonly version: number | null;
  /** The head active before this change. */
  readonly previous: number | null;
  /** name@version whose embedding the active head reads (null when none is active). */
  readonly base: string | null;
  readonly examples: number | null;
  /** Training loss and accuracy on the answers, before and after (trained only). */
  readonly metrics: Readonly<Record<string, number>> | null;
  readonly atMs: number;
}

/** A rollback with nothing to roll back to: refused, nothing changed. */
export class PersonalHeadRollbackRefused extends Error {}

export interface PersonalHeadUpdatesOptions {
  /** Refit after every this many emotion answers about one model version; 0 never refits. */
  readonly every: number;
  /** Default ANSWER_FIT: no bias, a short fit (a few unbalanced answers must not undo the population model). */
  readonly fit?: FitOptions;
}

interface AnsweredEmotion {
  readonly recordId: string;
  readonly answer: string;
}

export class PersonalHeadUpdates {
  private readonly heads: PersonalHeadRepository;
  private readonly outbox: Outbox;
  private readonly answersOf;
  private readonly recordModel;
  private readonly lastEventId;

  constructor(
    private readonly db: Db,
    private readonly options: PersonalHeadUpdatesOptions,
  ) {
    this.heads = new PersonalHeadRepository(db);
    this.outbox = new Outbox(db);
    this.answersOf = db.prepare(
      `SELECT l.target_id AS recordId, l.answer FROM labels l JOIN emotionship e ON e.id = l.target_id
       WHERE l.target_kind = 'emotionship' AND l.answered_at IS NOT NULL AND e.model = ?
       ORDER BY l.answered_at, l.id`,
    );
    this.recordModel = db.prepare('SELECT model FROM emotionship WHERE id = ?').pluck();
    this.lastEventId = db.prepare('SELECT MAX(id) FROM personal_head_events WHERE model = ?').pluck();
  }

  /**
   * After a stored answer: refits when it is the `every`-th emotion answer about its record's model version, and
   * returns what changed (null when nothing did). Throws only when the fit itself fails; the answer stays stored.
   */
  afterAnswer(label: StoredLabel, nowMs = Date.now()): PersonalHeadEvent | null {
    if (label.targetKind !== 'emotionship' || this.options.every <= 0) return null;
    const base = this.recordModel.get(label.targetId) as string | undefined;
    if (base === undefined) return null; // the record was deleted since it was asked about
    const answers = this.answersOf.all(base) as AnsweredEmotion[];
    if (answers.length === 0 || answers.length % this.options.every !== 0) return null;
    return this.train(base, answers, label.options, nowMs);
  }

  /** Fits on every answer about `base` records (classes: the options they were asked with) and activates it. */
  train(
    base: string,
    answers: readonly AnsweredEmotion[],
    classes: readonly string[],
    nowMs = Date.now(),
  ): PersonalHeadEvent {
    const model = base.split('@')[0] ?? base;
    const labels: WearerLabel[] = answers.map((a) => ({ recordId: a.recordId, emotion: a.answer }));
    return this.db.transaction(() => {
      const previous = this.heads.activeVersion(model);
      const fit = personalise(this.db, model, labels, classes, this.options.fit ?? ANSWER_FIT);
      const { version, examples, ...metrics } = fit;
      return this.announce({ model, action: 'trained', version, previous, base, examples, metrics, atMs: nowMs });
    })();
  }

  /** Back to the head active before the current one (none: the population model); refused when none is active. */
  rollback(model: string, nowMs = Date.now()): PersonalHeadEvent {
    return this.db.transaction(() => {
      const previous = this.heads.activeVersion(model);
      if (previous === null) {
        throw new PersonalHeadRollbackRefused(`no personal head of ${model} is active: nothing to roll back`);
      }
      const version = this.heads.rollback(model, nowMs);
      const active = version === null ? null : this.heads.get(model, version);
      return this.announce({
        model,
        action: 'rollback',
        version,
        previous,
        base: active?.base ?? null,
        examples: active?.examples ?? null,
        metrics: null,
        atMs: nowMs,
      });
    })();
  }

  private announce(change: Omit<PersonalHeadEvent, 'schema'>): PersonalHeadEvent {
    const event: PersonalHeadEvent = { schema: 'personal-head.v1', ...change };
    // One message per activation or rollback: the event row's id keeps the phone's de-duplication exact.
    const eventId = this.lastEventId.get(change.model) as number;
    this.outbox.enqueue(PERSONAL_HEAD_EVENT, `${change.model}.${eventId}`, event, change.atMs);
    return event;
  }
}
