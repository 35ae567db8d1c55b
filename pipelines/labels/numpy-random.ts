/**
 * numpy's `default_rng(seed)` (SeedSequence → PCG64, XSL-RR 128/64) bit for bit, with the two draws the label
 * queue uses: `random()` (a double in [0, 1) from the top 53 bits) and `choice(n, p)` (inverse CDF, searchsorted
 * right). The queue is a port of the toolchain's Python DEAL queue; sharing the generator lets a test check that
 * the port makes the same choices as the original on the same inputs and seed. BigInt is slow next to numpy, but
 * the queue draws a few hundred numbers per label request, and requests come a few an hour.
 */

const MASK32 = 0xffffffffn;
const MASK64 = (1n << 64n) - 1n;
const MASK128 = (1n << 128n) - 1n;
const PCG_MULT = (2549297995355413924n << 64n) + 4865540595714422341n;

// SeedSequence's hash constants (numpy/random/bit_generator.pyx).
const INIT_A = 0x43b0d7e5n;
const MULT_A = 0x931e8875n;
const INIT_B = 0x8b51f9ddn;
const MULT_B = 0x58f38dedn;
const MIX_MULT_L = 0xca01f9ddn;
const MIX_MULT_R = 0x4973f715n;
const POOL_SIZE = 4;

/** The seed as numpy coerces an int: little-endian 32-bit words (at least one). */
function seedWords(seed: bigint): bigint[] {
  if (seed < 0n) throw new Error(`seed must be ≥ 0, got ${seed}`);
  const words: bigint[] = [];
  let rest = seed;
  do {
    words.push(rest & MASK32);
    rest >>= 32n;
  } while (rest > 0n);
  return words;
}

/** SeedSequence(seed).generate_state(4, uint64) → PCG64's (state, increment) seed material. */
function seedSequenceState(seed: bigint, words64: number): bigint[] {
  const entropy = seedWords(seed);
  const hashConst = { a: INIT_A };
  const hashmix = (value: bigint): bigint => {
    let v = (value ^ hashConst.a) & MASK32;
    hashConst.a = (hashConst.a * MULT_A) & MASK32;
    v = (v * hashConst.a) & MASK32;
    return v ^ (v >> 16n);
  };
  const mix = (x: bigint, y: bigint): bigint => {
    const r = (MIX_MULT_L * x - MIX_MULT_R * y) & MASK32;
    return r ^ (r >> 16n);
  };
  const pool: bigint[] = [];
  for (let i = 0; i < POOL_SIZE; i++) pool.push(hashmix(i < entropy.length ? (entropy[i] as bigint) : 0n));
  for (let src = 0; src < POOL_SIZE; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++) {
      if (src !== dst) pool[dst] = mix(pool[dst] as bigint, hashmix(pool[src] as bigint));
    }
  }
  for (let src = POOL_SIZE; src < entropy.length; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++) pool[dst] = mix(pool[dst] as bigint, hashmix(entropy[src] as bigint));
  }
  let hashB = INIT_B;
  const words32: bigint[] = [];
  for (let i = 0; i < words64 * 2; i++) {
    let v = ((pool[i % POOL_SIZE] as bigint) ^ hashB) & MASK32;
    hashB = (hashB * MULT_B) & MASK32;
    v = (v * hashB) & MASK32;
    words32.push(v ^ (v >> 16n));
  }
  const out: bigint[] = [];
  for (let i = 0; i < words64; i++) out.push((words32[2 * i] as bigint) | ((words32[2 * i + 1] as bigint) << 32n));
  return out;
}

export interface RandomState {
  /** PCG64's 128-bit state and increment, as hex: a saved generator continues exactly where it stopped. */
  readonly state: string;
  readonly inc: string;
}

export class NumpyRandom {
  private state = 0n;
  private inc = 0n;

  constructor(seed: number | bigint = 0) {
    const [s0, s1, i0, i1] = seedSequenceState(BigInt(seed), 4) as [bigint, bigint, bigint, bigint];
    const initState = (s0 << 64n) | s1;
    const initSeq = (i0 << 64n) | i1;
    this.inc = ((initSeq << 1n) | 1n) & MASK128;
    this.step();
    this.state = (this.state + initState) & MASK128;
    this.step();
  }

  static fromState(saved: RandomState): NumpyRandom {
    const rng = new NumpyRandom(0);
    rng.state = BigInt(`0x${saved.state}`);
    rng.inc = BigInt(`0x${saved.inc}`);
    return rng;
  }

  saveState(): RandomState {
    return { state: this.state.toString(16), inc: this.inc.toString(16) };
  }

  /** The next raw 64-bit output (`bit_generator.random_raw()`). */
  nextUint64(): bigint {
    this.step();
    const s = this.state;
    const xored = ((s >> 64n) ^ s) & MASK64;
    const rot = Number(s >> 122n);
    return ((xored >> BigInt(rot)) | (xored << BigInt((64 - rot) & 63))) & MASK64;
  }

  /** `Generator.random()`: a double in [0, 1). */
  random(): number {
    return Number(this.nextUint64() >> 11n) / 9007199254740992;
  }

  /** `Generator.random(n)`. */
  randomArray(n: number): number[] {
    return Array.from({ length: n }, () => this.random());
  }

  /** `Generator.choice(len(p), p=p)`: cumulative sum, normalised by its last entry, searchsorted right. */
  choice(p: readonly number[]): number {
    const cdf: number[] = [];
    let sum = 0;
    for (const v of p) {
      sum += v;
      cdf.push(sum);
    }
    const total = cdf[cdf.length - 1] ?? 0;
    const u = this.random();
    let lo = 0;
    let hi = cdf.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) / total <= u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private step(): void {
    this.state = (this.state * PCG_MULT + this.inc) & MASK128;
  }
}
