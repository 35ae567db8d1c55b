import { type CandidateView, CRITERION_NAMES, densityFromEmbeddings } from './criteria.ts';
import { NumpyRandom, type RandomState } from './numpy-random.ts';
import { type BanditState, REXP4_DEFAULTS, Rexp4, type Rexp4Config } from './rexp4.ts';

/**
 * The DEAL label queue, a port of tools/train/glance_train/active/queue.py: which stored records to ask the
 * wearer about (REXP4 over the criteria), and learning from the answers. Same seed, same inputs → same picks as
 * the Python original (test/labels/rexp4-parity.test.ts runs both).
 *
 * Reward, as in the original's `answer()`: the model's surprise at the answer, 1 − p(answer | x), known the
 * moment the answer arrives (the original's per-round alternative, how much a retrained model's predictions
 * moved, needs retraining, which happens in the toolchain, not on the glasses).
 */

/** Anything the device could ask about: a snippet, an emotion record, a face… */
export interface LabelCandidate {
  readonly kind: string;
  readonly id: string;
  /** The current model's class probabilities (one per answer option). */
  readonly probabilities: readonly number[];
  /** Probabilities from other model versions that scored the same record (query-by-committee). */
  readonly committee?: readonly (readonly number[])[];
  /** A feature vector (density weighting: representative records first). */
  readonly embedding?: readonly number[];
}

export interface Pick {
  readonly candidate: LabelCandidate;
  /** Its query probability when drawn (importance weight = 1 / probability). */
  readonly probability: number;
  /** Each criterion's advice mass on it: why it was asked. */
  readonly votes: Readonly<Record<string, number>>;
  /** The criterion that contributed most of its query probability (weight × advice). */
  readonly criterion: string;
}

export interface LabelQueueConfig {
  readonly criteria: readonly string[];
  readonly bandit: Rexp4Config;
}

export const LABEL_QUEUE_DEFAULTS: LabelQueueConfig = {
  criteria: ['uncertainty', 'margin', 'entropy', 'qbc', 'density', 'random'],
  bandit: REXP4_DEFAULTS,
};

interface Pending {
  readonly advice: number[];
  readonly probability: number;
  readonly probs: number[];
}

export interface LabelQueueState {
  readonly bandit: BanditState;
  readonly pending: Readonly<Record<string, Pending>>;
  readonly rng: RandomState;
}

export const candidateKey = (c: { readonly kind: string; readonly id: string }): string => `${c.kind}:${c.id}`;

export class LabelQueue {
  readonly bandit: Rexp4;
  private rng: NumpyRandom;
  private pending = new Map<string, Pending>();
  private roundAnswers: { advice: number[]; probability: number; reward: number }[] = [];

  constructor(
    readonly config: LabelQueueConfig = LABEL_QUEUE_DEFAULTS,
    seed = 0,
  ) {
    const unknown = config.criteria.filter((c) => !CRITERION_NAMES.includes(c));
    if (unknown.length > 0)
      throw new Error(`unknown criteria ${unknown.join(', ')}; known: ${CRITERION_NAMES.join(', ')}`);
    this.bandit = new Rexp4(config.criteria, config.bandit);
    this.rng = new NumpyRandom(seed);
  }

  /** Choose `k` of the candidates to ask about. */
  pick(candidates: readonly LabelCandidate[], k = 1): Pick[] {
    if (candidates.length === 0 || k <= 0) return [];
    const view = candidateView(candidates);
    const scores = this.bandit.scores(view, this.rng);
    const advice = this.bandit.advice(scores, this.rng);
    const { chosen, probs } = this.bandit.draw(this.bandit.queryDistribution(advice), k, this.rng);
    return chosen.map((i, n) => {
      const candidate = candidates[i] as LabelCandidate;
      const mass = advice.map((row) => row[i] as number);
      this.pending.set(candidateKey(candidate), {
        advice: mass,
        probability: probs[n] as number,
        probs: [...(view.probs[i] as number[])],
      });
      const votes = Object.fromEntries(this.bandit.experts.map((e, j) => [e, round4(mass[j] as number)]));
      const lead = mass.reduce(
        (best, a, j) =>
          (this.bandit.weights[j] as number) * a > (this.bandit.weights[best] as number) * (mass[best] as number)
            ? j
            : best,
        0,
      );
      return { candidate, probability: probs[n] as number, votes, criterion: this.bandit.experts[lead] as string };
    });
  }

  isPending(key: string): boolean {
    return this.pending.has(key);
  }

  /** The wearer's answer (option index) for a pending candidate; returns its reward (surprise). */
  answer(key: string, option: number, reward?: number): number {
    const p = this.pending.get(key);
    if (p === undefined) throw new Error(`no pending question about ${key}`);
    if (!Number.isInteger(option) || option < 0 || option >= p.probs.length) {
      throw new Error(`option ${option} is not one of the ${p.probs.length} answers`);
    }
    this.pending.delete(key);
    const r = reward ?? Math.min(Math.max(1 - (p.probs[option] as number), 0), 1);
    this.roundAnswers.push({ advice: p.advice, probability: p.probability, reward: r });
    return r;
  }

  /** The wearer dismissed the question: no reward either way (unanswered is not evidence). */
  skip(key: string): void {
    this.pending.delete(key);
  }

  /** Update the expert weights from this round's answers, then count the round (restarting if due). */
  endRound(roundReward?: number): void {
    if (this.roundAnswers.length > 0) {
      const advice = this.bandit.experts.map((_, e) => this.roundAnswers.map((a) => a.advice[e] as number));
      const probs = this.roundAnswers.map((a) => a.probability);
      const rewards = this.roundAnswers.map((a) => roundReward ?? a.reward);
      this.bandit.update(advice, probs, rewards);
    }
    this.roundAnswers = [];
    this.bandit.endRound();
  }

  get weights(): Record<string, number> {
    return Object.fromEntries(this.bandit.experts.map((e, i) => [e, this.bandit.weights[i] as number]));
  }

  state(): LabelQueueState {
    return { bandit: this.bandit.state(), pending: Object.fromEntries(this.pending), rng: this.rng.saveState() };
  }

  loadState(state: LabelQueueState): void {
    this.bandit.loadState(state.bandit);
    this.pending = new Map(Object.entries(state.pending));
    this.rng = NumpyRandom.fromState(state.rng);
  }
}

const round4 = (v: number): number => Math.round(v * 1e4) / 1e4;

/** Committee and density only when every candidate has them (as the original's arrays require). */
function candidateView(candidates: readonly LabelCandidate[]): CandidateView {
  const probs = candidates.map((c) => [...c.probabilities]);
  const sizes = new Set(candidates.map((c) => c.committee?.length ?? 0));
  const members = [...sizes][0] ?? 0;
  const committee =
    sizes.size === 1 && members > 0
      ? Array.from({ length: members }, (_, m) => candidates.map((c) => [...((c.committee ?? [])[m] ?? [])]))
      : undefined;
  const dims = new Set(candidates.map((c) => c.embedding?.length ?? 0));
  const dim = [...dims][0] ?? 0;
  const density =
    dims.size === 1 && dim > 0 ? densityFromEmbeddings(candidates.map((c) => c.embedding ?? [])) : undefined;
  return { probs, committee, density };
}
