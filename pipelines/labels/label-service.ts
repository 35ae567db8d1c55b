import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../../storage/db.ts';
import { LabelRepository, type LabelRequest, type StoredLabel } from '../../storage/labels.ts';
import type { LabelsConfig } from './config.ts';
import { candidateKey, LabelQueue, type LabelQueueState } from './label-queue.ts';
import type { PersonalHeadEvent, PersonalHeadUpdates } from './personal-head-updates.ts';
import type { AskableRecord, CandidateSource } from './sources.ts';

/** An answer the queue refuses (unknown request, answered already, not one of the options): nothing changed. */
export class LabelAnswerRejected extends Error {}

export interface LabelAnswerInput {
  readonly requestId: string;
  readonly answer: string;
  readonly by?: string;
}

export interface LabelAnswered {
  readonly requestId: string;
  readonly answer: string;
  /** What the answer paid the bandit (1 − p(answer)); null when the request had expired from the bandit. */
  readonly reward: number | null;
  readonly weights: Readonly<Record<string, number>>;
  /** The personal head this answer retrained, when it did (see PersonalHeadUpdates). */
  readonly personalHead?: PersonalHeadEvent;
}

const HOUR_MS = 3_600_000;

/**
 * The device's DEAL label queue: every `intervalS` it picks stored records to ask about (REXP4 over the
 * criteria) within the rate bounds, stores each request with its `label-request` outbox row, and turns the
 * wearer's answers (cmd/label) into stored labels and REXP4 updates. Each answer is one bandit round: answers
 * arrive one at a time, minutes or hours apart. The queue's state lives in SQLite next to the labels it
 * describes, written in the same transaction, so a restart continues where it stopped.
 */
export class LabelService {
  private readonly repo: LabelRepository;
  private readonly queue: LabelQueue;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    db: Db,
    private readonly config: LabelsConfig,
    private readonly sources: readonly CandidateSource[],
    private readonly logger?: Logger,
    /** Emotion answers retrain the wearer's personal head; absent, answers are only stored. */
    private readonly personalHeads?: PersonalHeadUpdates,
  ) {
    this.repo = new LabelRepository(db);
    this.queue = new LabelQueue(
      {
        criteria: config.criteria,
        bandit: {
          gamma: config.exploration,
          restart: config.restartPeriod,
          eta: config.learningRate,
          adviceScale: config.adviceScale,
        },
      },
      config.seed,
    );
    const saved = this.repo.loadState();
    if (saved !== undefined) {
      try {
        this.queue.loadState(JSON.parse(saved) as LabelQueueState);
      } catch (error) {
        // Another criteria list than the saved one: the weights do not carry over, the stored labels do.
        this.logger?.warn({ err: (error as Error).message }, 'label queue state not restored; starting afresh');
      }
    }
  }

  start(): void {
    this.timer ??= setInterval(() => this.tickSafely(), this.config.intervalS * 1000);
    this.timer.unref();
    this.tickSafely();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  get weights(): Readonly<Record<string, number>> {
    return this.queue.weights;
  }

  /** Asks about as many records as the bounds allow now; returns the requests it stored (and queued to send). */
  tick(nowMs = Date.now()): LabelRequest[] {
    this.expire(nowMs);
    const open = this.repo.open().filter((l) => l.askedAt > nowMs - this.expiryMs).length;
    const room = Math.min(this.config.maxPerHour - this.repo.askedSince(nowMs - HOUR_MS), this.config.maxOpen - open);
    if (room <= 0) return [];
    const pool = this.sources.flatMap((s) => s.candidates(this.config.poolSize));
    if (pool.length === 0) return [];
    const before = this.queue.state();
    const picks = this.queue.pick(pool, room);
    const requests = picks.map(({ candidate, probability, votes, criterion }) => {
      const record = candidate as AskableRecord;
      return {
        id: randomUUID(),
        targetKind: record.kind,
        targetId: record.id,
        question: record.question,
        options: record.options,
        probabilities: record.probabilities,
        model: record.model,
        criterion,
        votes,
        queryProbability: probability,
        askedAt: nowMs,
      } satisfies LabelRequest;
    });
    try {
      this.repo.transaction(() => {
        for (const r of requests) this.repo.ask(r);
        this.saveState(nowMs);
      });
    } catch (error) {
      this.queue.loadState(before); // nothing was asked: the queue must not think otherwise
      throw error;
    }
    if (requests.length > 0) this.logger?.info({ asked: requests.length }, 'label requests queued for the phone');
    return requests;
  }

  /** The wearer's answer: validated against the stored request, stored once, and fed to REXP4. */
  answer(input: LabelAnswerInput, nowMs = Date.now()): LabelAnswered {
    const request = this.repo.get(input.requestId);
    if (request === undefined) throw new LabelAnswerRejected(`no label request ${input.requestId}`);
    if (request.answeredAt !== null) {
      throw new LabelAnswerRejected(
        `label request ${input.requestId} was already answered (${JSON.stringify(request.answer)})`,
      );
    }
    const option = request.options.indexOf(input.answer);
    if (option < 0) {
      throw new LabelAnswerRejected(
        `answer ${JSON.stringify(input.answer)} is not one of ${request.options.map((o) => JSON.stringify(o)).join(', ')}`,
      );
    }
    const key = candidateKey({ kind: request.targetKind, id: request.targetId });
    const before = this.queue.state();
    let reward: number | null;
    try {
      reward = this.queue.isPending(key) ? this.queue.answer(key, option) : null;
      if (reward !== null) this.queue.endRound();
      this.repo.transaction(() => {
        if (!this.repo.answer(request.id, input.answer, input.by ?? 'phone', reward, nowMs)) {
          throw new LabelAnswerRejected(`label request ${input.requestId} was already answered`);
        }
        this.saveState(nowMs);
      });
    } catch (error) {
      this.queue.loadState(before); // the stored answer and the bandit never disagree
      throw error;
    }
    const personalHead = this.retrain(request.id, nowMs);
    return {
      requestId: request.id,
      answer: input.answer,
      reward,
      weights: this.queue.weights,
      ...(personalHead ? { personalHead } : {}),
    };
  }

  /** After the answer is stored: a failed refit is logged and leaves the answer and the active head as they were. */
  private retrain(requestId: string, nowMs: number): PersonalHeadEvent | null {
    const stored = this.personalHeads && this.repo.get(requestId);
    if (!stored) return null;
    try {
      const event = this.personalHeads?.afterAnswer(stored, nowMs) ?? null;
      if (event) this.logger?.info({ model: event.model, version: event.version }, 'personal head retrained');
      return event;
    } catch (error) {
      this.logger?.error({ err: (error as Error).message }, 'personal head not retrained');
      return null;
    }
  }

  answered(): StoredLabel[] {
    return this.repo.answered();
  }

  private get expiryMs(): number {
    return this.config.expireAfterH * HOUR_MS;
  }

  /** Requests unanswered for too long leave the bandit (no evidence either way); a late answer is still stored. */
  private expire(nowMs: number): void {
    for (const l of this.repo.open()) {
      const key = candidateKey({ kind: l.targetKind, id: l.targetId });
      if (l.askedAt <= nowMs - this.expiryMs && this.queue.isPending(key)) {
        this.queue.skip(key);
        this.saveState(nowMs);
      }
    }
  }

  private saveState(nowMs: number): void {
    this.repo.saveState(JSON.stringify(this.queue.state()), nowMs);
  }

  private tickSafely(): void {
    try {
      this.tick();
    } catch (error) {
      this.logger?.error({ err: (error as Error).message }, 'label queue tick failed');
    }
  }
}
