/**
 * A changed class prior (Saerens et al., 2002): a classifier trained where classes had shares `trained` gives
 * p(c|x) ∝ p(x|c)·trained(c); where they have shares `wanted`, p'(c|x) ∝ p(c|x)·wanted(c)/trained(c). The
 * emotion models learnt from clips in which a quarter of the windows are neutral; a wearer spends far more of
 * the day in no emotion episode, so the same evidence should weigh less towards an emotion.
 */

/** Shares with `neutral` at `neutralShare` and the other classes sharing the rest equally. */
export function neutralPriorShares(classes: number, neutral: number, neutralShare: number): number[] {
  const rest = (1 - neutralShare) / Math.max(1, classes - 1);
  return Array.from({ length: classes }, (_, c) => (c === neutral ? neutralShare : rest));
}

/** Re-weights probabilities from the `trained` prior to the `wanted` one; sums to 1. */
export function reweight(
  probs: ArrayLike<number>,
  trained: readonly number[],
  wanted: readonly number[],
): Float32Array {
  const out = new Float32Array(probs.length);
  let sum = 0;
  for (let c = 0; c < probs.length; c++) {
    out[c] = ((probs[c] ?? 0) * (wanted[c] ?? 0)) / (trained[c] ?? 1);
    sum += out[c] ?? 0;
  }
  if (sum > 0) for (let c = 0; c < out.length; c++) out[c] = (out[c] ?? 0) / sum;
  return out;
}
