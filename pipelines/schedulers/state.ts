import type { Deviation } from './deviation.ts';

/** The policy's input, in this order (the manifest lists the same names). */
export const STATE_FEATURES = [
  'meanAbsDiff',
  'residual',
  'poorBlocks',
  'flowMean',
  'flowSpread',
  'outside',
  'age',
  'recentKeys',
] as const;

/** Decisions remembered for `recentKeys`. */
export const HISTORY = 10;

/**
 * The state vector: the deviation from the last key frame, then the decision history ("expert information"):
 * frames since the key as a share of the longest allowed interval, and the share of keys among the last
 * HISTORY decisions. Raw values: the policy model standardises them itself.
 */
export function stateVector(dev: Deviation, age: number, maxInterval: number, recentKeys: number): Float32Array {
  return Float32Array.from([
    dev.meanAbsDiff,
    dev.residual,
    dev.poorBlocks,
    dev.flowMean,
    dev.flowSpread,
    dev.outside,
    age / maxInterval,
    recentKeys,
  ]);
}

/** The last HISTORY decisions (true = key), oldest dropped first. */
export class DecisionHistory {
  private readonly keys: boolean[] = [];

  push(key: boolean): void {
    this.keys.push(key);
    if (this.keys.length > HISTORY) this.keys.shift();
  }

  /** Share of keys among the remembered decisions; 1 before any (a fresh start follows a key). */
  share(): number {
    if (this.keys.length === 0) return 1;
    return this.keys.filter(Boolean).length / this.keys.length;
  }
}
