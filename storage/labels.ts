import type { Db } from './db.ts';
import { Outbox } from './outbox.ts';

export const LABEL_TARGET_KINDS = ['snippet', 'emotionship', 'face', 'person'] as const;
export type LabelTargetKind = (typeof LABEL_TARGET_KINDS)[number];

/** A question to the wearer about one stored record (active learning). */
export interface LabelRequest {
  readonly id: string;
  readonly targetKind: LabelTargetKind;
  readonly targetId: string;
  readonly question: string;
  readonly options: readonly string[];
  readonly probabilities: readonly number[];
  readonly model: string | null;
  readonly criterion: string;
  readonly votes: Readonly<Record<string, number>>;
  readonly queryProbability: number;
  readonly askedAt: number;
}

export interface StoredLabel extends LabelRequest {
  readonly answeredAt: number | null;
  readonly answer: string | null;
  readonly answeredBy: string | null;
  readonly reward: number | null;
}

interface LabelRow {
  id: string;
  target_kind: LabelTargetKind;
  target_id: string;
  question: string;
  options: string;
  probabilities: string;
  model: string | null;
  criterion: string;
  votes: string;
  query_probability: number;
  asked_at: number;
  answered_at: number | null;
  answer: string | null;
  answered_by: string | null;
  reward: number | null;
}

/** The `events/label-request` payload: what the phone shows (DESIGN.md topics). */
export function labelRequestEvent(r: LabelRequest): Record<string, unknown> {
  return {
    requestId: r.id,
    target: { kind: r.targetKind, id: r.targetId },
    question: r.question,
    options: r.options,
    model: r.model,
    askedAt: r.askedAt,
  };
}

/** The `labels` table and the queue's state row; a request and its outbox row are written together. */
export class LabelRepository {
  private readonly outbox: Outbox;
  private readonly insertStmt;
  private readonly byId;
  private readonly askedSinceStmt;
  private readonly openStmt;
  private readonly answerStmt;
  private readonly askedTargetsStmt;
  private readonly stateGet;
  private readonly stateSet;
  readonly ask: (request: LabelRequest) => void;

  constructor(private readonly db: Db) {
    this.outbox = new Outbox(db);
    this.insertStmt = db.prepare(
      `INSERT INTO labels (id, target_kind, target_id, question, options, probabilities, model, criterion, votes,
         query_probability, asked_at)
       VALUES (@id, @targetKind, @targetId, @question, @options, @probabilities, @model, @criterion, @votes,
         @queryProbability, @askedAt)`,
    );
    this.byId = db.prepare('SELECT * FROM labels WHERE id = ?');
    this.askedSinceStmt = db.prepare('SELECT COUNT(*) FROM labels WHERE asked_at > ?').pluck();
    this.openStmt = db.prepare('SELECT * FROM labels WHERE answered_at IS NULL ORDER BY asked_at, id');
    this.answerStmt = db.prepare(
      `UPDATE labels SET answer = ?, answered_at = ?, answered_by = ?, reward = ?
       WHERE id = ? AND answered_at IS NULL`,
    );
    this.askedTargetsStmt = db.prepare('SELECT target_id FROM labels WHERE target_kind = ?').pluck();
    this.stateGet = db.prepare('SELECT state FROM label_queue WHERE id = 1').pluck();
    this.stateSet = db.prepare(
      `INSERT INTO label_queue (id, state, updated_ms) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms`,
    );
    this.ask = db.transaction((r: LabelRequest) => {
      this.insertStmt.run({
        ...r,
        options: JSON.stringify(r.options),
        probabilities: JSON.stringify(r.probabilities),
        votes: JSON.stringify(r.votes),
      });
      this.outbox.enqueue('label-request', r.id, labelRequestEvent(r), r.askedAt);
    });
  }

  get(id: string): StoredLabel | undefined {
    const row = this.byId.get(id) as LabelRow | undefined;
    return row && fromRow(row);
  }

  askedSince(ms: number): number {
    return this.askedSinceStmt.get(ms) as number;
  }

  open(): StoredLabel[] {
    return (this.openStmt.all() as LabelRow[]).map(fromRow);
  }

  answered(): StoredLabel[] {
    return answeredLabels(this.db);
  }

  /** Records of this kind that were already asked about (answered or not): never asked twice. */
  askedTargets(kind: LabelTargetKind): Set<string> {
    return new Set(this.askedTargetsStmt.all(kind) as string[]);
  }

  /** Stores an answer once; false when the request was answered already (nothing changes then). */
  answer(id: string, answer: string, by: string, reward: number | null, nowMs: number): boolean {
    return this.answerStmt.run(answer, nowMs, by, reward, id).changes === 1;
  }

  loadState(): string | undefined {
    return this.stateGet.get() as string | undefined;
  }

  saveState(state: string, nowMs: number): void {
    this.stateSet.run(state, nowMs);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}

/** Answered labels, oldest answer first, with only a SELECT (works on a read-only connection). */
export function answeredLabels(db: Db): StoredLabel[] {
  const rows = db.prepare('SELECT * FROM labels WHERE answered_at IS NOT NULL ORDER BY answered_at, id').all();
  return (rows as LabelRow[]).map(fromRow);
}

export const LABELS_FILE_SCHEMA = 'glance.labels/1';

/** The file `glance labels export` writes and the toolchain reads (glance_train/active/labels_file.py). */
export function labelsFile(labels: readonly StoredLabel[], nowMs = Date.now()): Record<string, unknown> {
  return {
    schema: LABELS_FILE_SCHEMA,
    exportedMs: nowMs,
    labels: labels.map((l) => ({
      requestId: l.id,
      target: { kind: l.targetKind, id: l.targetId },
      question: l.question,
      options: l.options,
      answer: l.answer,
      answerIndex: l.answer === null ? null : l.options.indexOf(l.answer),
      probabilities: l.probabilities,
      model: l.model,
      criterion: l.criterion,
      queryProbability: l.queryProbability,
      askedAt: l.askedAt,
      answeredAt: l.answeredAt,
      answeredBy: l.answeredBy,
    })),
  };
}

function fromRow(r: LabelRow): StoredLabel {
  return {
    id: r.id,
    targetKind: r.target_kind,
    targetId: r.target_id,
    question: r.question,
    options: JSON.parse(r.options) as string[],
    probabilities: JSON.parse(r.probabilities) as number[],
    model: r.model,
    criterion: r.criterion,
    votes: JSON.parse(r.votes) as Record<string, number>,
    queryProbability: r.query_probability,
    askedAt: r.asked_at,
    answeredAt: r.answered_at,
    answer: r.answer,
    answeredBy: r.answered_by,
    reward: r.reward,
  };
}
