/**
 * The wearer's personal emotion head: a softmax layer over the emotion model's embedding, added to the population
 * model's logits (logits = base + W·e + b). It starts at zero, so an untrained head changes nothing — it *is* the
 * population classifier plus a residual — and gradient descent with an L2 pull towards zero learns only the
 * correction this wearer needs from a handful of labelled examples. Measured (docs/emotion.md): it helps a wearer
 * the population model reads badly, and costs a wearer it already reads well 0–2 points.
 */
import type { HeadWeights } from '../../storage/personal-heads.ts';

export type { HeadWeights };

export interface LabelledExample {
  readonly embedding: Float32Array;
  /** The population model's logits for the same window. */
  readonly logits: Float32Array;
  /** Class index. */
  readonly label: number;
}

export interface FitOptions {
  readonly epochs: number;
  readonly learningRate: number;
  /** Pull of the weights towards zero (the population model). */
  readonly l2: number;
  /** Learn the per-class bias too (default true). From a few answers it learns their class mix (docs/labels.md). */
  readonly bias?: boolean;
  /** Weight each answer by 1 / (answers of its class), so a class answered often does not pull the rest. */
  readonly balanced?: boolean;
  /**
   * With `balanced`: the class mix the answers should stand for (e.g. the population training set's), instead of
   * equal classes. Answers asked 3 per class about a wearer who is neutral twice as often otherwise teach the head
   * that neutral is rarer than it is.
   */
  readonly prior?: readonly number[];
}

/**
 * Bias frozen: a learnt bias learns the class mix of the answers, not the wearer (docs/labels.md; 3 answers per
 * class about a wearer who is neutral twice as often cost 2–5 points of an unshifted wearer's accuracy).
 */
export const DEFAULT_FIT: FitOptions = { epochs: 300, learningRate: 0.05, l2: 1e-2, bias: false };

/**
 * For the wearer's answers to label requests, which come one at a time about whatever the queue asked: the bias
 * stays at zero and the fit is short. Measured on three synthetic shifted wearers (docs/labels.md), a learnt bias
 * with 300 epochs (the DEFAULT_FIT of then) lost 9–11 points of held-out accuracy after 5 such answers and 4–7 after 10; this at most 1.2 (mean of 30 draws).
 */
export const ANSWER_FIT: FitOptions = { epochs: 100, learningRate: 0.05, l2: 1e-2, bias: false };

export function zeroHead(classes: number, dim: number): HeadWeights {
  return { classes, dim, w: new Float32Array(classes * dim), b: new Float32Array(classes) };
}

/** Personalised logits of one example. */
export function headLogits(head: HeadWeights, embedding: Float32Array, base: Float32Array): Float32Array {
  const out = new Float32Array(head.classes);
  for (let c = 0; c < head.classes; c++) {
    let z = (base[c] ?? 0) + (head.b[c] ?? 0);
    const row = c * head.dim;
    for (let j = 0; j < head.dim; j++) z += (head.w[row + j] ?? 0) * (embedding[j] ?? 0);
    out[c] = z;
  }
  return out;
}

export function softmax(z: Float32Array): Float32Array {
  let max = -Infinity;
  for (const v of z) max = Math.max(max, v);
  const out = new Float32Array(z.length);
  let sum = 0;
  for (let i = 0; i < z.length; i++) {
    out[i] = Math.exp((z[i] ?? 0) - max);
    sum += out[i] ?? 0;
  }
  for (let i = 0; i < z.length; i++) out[i] = (out[i] ?? 0) / sum;
  return out;
}

export function argmax(z: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < z.length; i++) if ((z[i] ?? 0) > (z[best] ?? 0)) best = i;
  return best;
}

export function accuracy(head: HeadWeights, examples: readonly LabelledExample[]): number {
  if (examples.length === 0) return Number.NaN;
  let hit = 0;
  for (const e of examples) if (argmax(headLogits(head, e.embedding, e.logits)) === e.label) hit++;
  return hit / examples.length;
}

/** Mean cross-entropy of the personalised logits. */
export function meanLoss(head: HeadWeights, examples: readonly LabelledExample[]): number {
  let loss = 0;
  for (const e of examples)
    loss -= Math.log(Math.max(softmax(headLogits(head, e.embedding, e.logits))[e.label] ?? 0, 1e-12));
  return loss / Math.max(examples.length, 1);
}

/**
 * Full-batch gradient descent on the (weighted) mean cross-entropy plus l2/2·|W|² from `start` (a previous head,
 * to fine-tune it, or zero). Embedding features are scaled by their mean magnitude so one learning rate fits any
 * model. Never returns a head that reads fewer of `examples` right than `start` did.
 */
export function fitHead(
  start: HeadWeights,
  examples: readonly LabelledExample[],
  options: FitOptions = DEFAULT_FIT,
): { head: HeadWeights; loss: number } {
  if (examples.length === 0) throw new Error('no labelled examples to fit the personal head on');
  const { classes, dim } = start;
  for (const e of examples) {
    if (e.embedding.length !== dim || e.logits.length !== classes) {
      throw new Error(
        `example has embedding ${e.embedding.length}/logits ${e.logits.length}, head wants ${dim}/${classes}`,
      );
    }
    if (!Number.isInteger(e.label) || e.label < 0 || e.label >= classes)
      throw new Error(`label ${e.label} out of range`);
  }
  const w = Float32Array.from(start.w);
  const b = Float32Array.from(start.b);
  const head = { classes, dim, w, b };
  let scale = 0;
  for (const e of examples) for (const v of e.embedding) scale += v * v;
  const lr = options.learningRate / Math.max(scale / examples.length, 1e-6);
  const weights = exampleWeights(examples, classes, options.balanced === true, options.prior);
  const gw = new Float32Array(classes * dim);
  const gb = new Float32Array(classes);
  let loss = 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    gw.fill(0);
    gb.fill(0);
    loss = 0;
    examples.forEach((e, i) => {
      const a = weights[i] ?? 0;
      const p = softmax(headLogits(head, e.embedding, e.logits));
      loss -= a * Math.log(Math.max(p[e.label] ?? 0, 1e-12));
      for (let c = 0; c < classes; c++) {
        const d = a * ((p[c] ?? 0) - (c === e.label ? 1 : 0));
        gb[c] = (gb[c] ?? 0) + d;
        const row = c * dim;
        for (let j = 0; j < dim; j++) gw[row + j] = (gw[row + j] ?? 0) + d * (e.embedding[j] ?? 0);
      }
    });
    for (let i = 0; i < w.length; i++) w[i] = (w[i] ?? 0) - lr * ((gw[i] ?? 0) + options.l2 * (w[i] ?? 0));
    // The bias sees features of size 1, not |e|: its own step keeps it from crawling.
    if (options.bias !== false)
      for (let c = 0; c < classes; c++) b[c] = (b[c] ?? 0) - options.learningRate * (gb[c] ?? 0);
  }
  return guarded(start, head, examples, loss);
}

/**
 * Never worse than where it started on the answers it was fitted on: when the fit reads fewer of them right than
 * `start` did (the L2 term can trade a hit for smaller weights), step back towards `start` until it does not.
 */
function guarded(
  start: HeadWeights,
  fitted: HeadWeights,
  examples: readonly LabelledExample[],
  loss: number,
): { head: HeadWeights; loss: number } {
  const floor = accuracy(start, examples);
  for (const t of [1, 0.5, 0.25, 0.125]) {
    const mix = (a: Float32Array, b: Float32Array) => a.map((v, i) => v + t * ((b[i] ?? 0) - v));
    const head = t === 1 ? fitted : { ...fitted, w: mix(start.w, fitted.w), b: mix(start.b, fitted.b) };
    if (accuracy(head, examples) >= floor) return { head, loss: t === 1 ? loss : meanLoss(head, examples) };
  }
  const head = { ...start, w: Float32Array.from(start.w), b: Float32Array.from(start.b) };
  return { head, loss: meanLoss(head, examples) };
}

/** Per-example loss weights summing to 1: uniform, or per answered class its share of `prior` (default equal). */
function exampleWeights(
  examples: readonly LabelledExample[],
  classes: number,
  balanced: boolean,
  prior?: readonly number[],
): Float64Array {
  const out = new Float64Array(examples.length);
  if (!balanced) return out.fill(1 / examples.length);
  const count = new Float64Array(classes);
  for (const e of examples) count[e.label] = (count[e.label] ?? 0) + 1;
  let total = 0;
  examples.forEach((e, i) => {
    out[i] = (prior?.[e.label] ?? 1) / (count[e.label] ?? 1);
    total += out[i] ?? 0;
  });
  return out.map((v) => v / total);
}
