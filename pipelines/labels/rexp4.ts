import { type CandidateView, CRITERIA, pairwiseSum, ranks } from './criteria.ts';
import type { NumpyRandom } from './numpy-random.ts';

/**
 * REXP4, a port of tools/train/glance_train/active/rexp4.py (read its docstring for the method and the stated
 * deviation: η is its own knob). Experts are criteria; actions are the candidates. Per round:
 *   advice_e(i) ∝ exp(−rank_e(i)/τ);  p = (1 − γ) Σ_e w_e advice_e + γ/K;  draw from p;
 *   w_e ← w_e · exp(η · mean_i advice_e(i) · r_i / p_i);  every Δ_T rounds the weights restart uniform.
 */
export interface Rexp4Config {
  /** γ, the exploration rate. */
  readonly gamma: number;
  /** Δ_T, rounds between weight restarts (0: never). */
  readonly restart: number;
  readonly eta: number;
  /** τ of the advice. */
  readonly adviceScale: number;
}

/**
 * The toolchain's defaults (tools/train/glance_train/active/rexp4.py `Rexp4Config`), chosen there on validation
 * sessions disjoint from the evaluated ones (`python -m glance_train.active.tune`, reports/deal_tuning.md); the
 * daemon's `labels.*` config defaults read them from here. (They were γ 0.3, Δ_T 15, τ 4: hand-set values the
 * toolchain had before it tuned on validation seeds.)
 */
export const REXP4_DEFAULTS: Rexp4Config = { gamma: 0.05, restart: 10, eta: 3, adviceScale: 1 };

export interface BanditState {
  readonly experts: readonly string[];
  readonly weights: readonly number[];
  readonly round: number;
}

export class Rexp4 {
  weights: number[];
  round = 0;

  constructor(
    readonly experts: readonly string[],
    readonly config: Rexp4Config,
  ) {
    this.weights = experts.map(() => 1 / experts.length);
  }

  /** E × K advice from each expert's scores (higher = ask sooner). */
  advice(scores: Readonly<Record<string, readonly number[]>>, rng: NumpyRandom): number[][] {
    const scale = Math.max(this.config.adviceScale, 1e-9);
    return this.experts.map((e) => {
      const a = ranks(scores[e] as readonly number[], rng).map((r) => Math.exp(-r / scale));
      const total = pairwiseSum(a);
      return a.map((v) => v / total);
    });
  }

  queryDistribution(advice: readonly (readonly number[])[]): number[] {
    const k = (advice[0] as readonly number[]).length;
    const { gamma } = this.config;
    return (advice[0] as readonly number[]).map((_, i) => {
      let mixed = 0;
      advice.forEach((row, e) => {
        mixed += (this.weights[e] as number) * (row[i] as number);
      });
      return (1 - gamma) * mixed + gamma / k;
    });
  }

  /** b distinct candidates, each with the probability it had when drawn (renormalised over the rest). */
  draw(p: readonly number[], b: number, rng: NumpyRandom): { chosen: number[]; probs: number[] } {
    const left = [...p];
    const chosen: number[] = [];
    const probs: number[] = [];
    for (let n = 0; n < Math.min(b, left.length); n++) {
      const total = pairwiseSum(left);
      const q = left.map((v) => v / total);
      const i = rng.choice(q);
      chosen.push(i);
      probs.push(q[i] as number);
      left[i] = 0;
    }
    return { chosen, probs };
  }

  /** `advice`: E × b, the experts' advice on the b answered candidates; their query probabilities and rewards. */
  update(advice: readonly (readonly number[])[], probs: readonly number[], rewards: readonly number[]): void {
    const est = advice.map(
      (row) => pairwiseSum(row.map((a, i) => a * ((rewards[i] as number) / (probs[i] as number)))) / row.length,
    );
    const logw = this.weights.map((w, e) => Math.log(Math.max(w, 1e-300)) + this.config.eta * (est[e] as number));
    const top = Math.max(...logw);
    const w = logw.map((v) => Math.exp(v - top)); // in log space: a large η·ŷ must not overflow
    const total = pairwiseSum(w);
    this.weights = w.map((v) => v / total);
  }

  endRound(): void {
    this.round += 1;
    if (this.config.restart > 0 && this.round % this.config.restart === 0) {
      this.weights = this.experts.map(() => 1 / this.experts.length);
    }
  }

  scores(view: CandidateView, rng: NumpyRandom): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const e of this.experts) out[e] = (CRITERIA[e] as (typeof CRITERIA)[string])(view, rng);
    return out;
  }

  state(): BanditState {
    return { experts: [...this.experts], weights: [...this.weights], round: this.round };
  }

  loadState(state: BanditState): void {
    if (state.experts.join(',') !== this.experts.join(',')) {
      throw new Error(`state is for experts ${state.experts.join(',')}, this bandit has ${this.experts.join(',')}`);
    }
    this.weights = [...state.weights];
    this.round = state.round;
  }
}
