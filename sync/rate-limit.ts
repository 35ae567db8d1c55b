/**
 * A token bucket: `ratePerSecond` tokens a second, at most `burst` saved up. The outbox drain takes one per
 * record and the snippet sender one per byte, so a backlog after a day offline goes out at a bounded pace and the
 * live pipeline keeps its share of the CPU.
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.lastMs = now();
  }

  /** Takes `n` tokens (going into debt if needed) and returns how many ms to wait before acting on them. */
  take(n: number): number {
    this.refill();
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.ratePerSecond) * 1000;
  }

  private refill(): void {
    const nowMs = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) / 1000) * this.ratePerSecond);
    this.lastMs = nowMs;
  }
}
