/** Per-stage timing: every duration is kept (a Float64Array that grows), so p50/p99 are exact, not sketched. */
export class StageMetrics {
  private durations = new Float64Array(1024);
  private n = 0;

  record(ms: number): void {
    if (this.n === this.durations.length) {
      const bigger = new Float64Array(this.durations.length * 2);
      bigger.set(this.durations);
      this.durations = bigger;
    }
    this.durations[this.n++] = ms;
  }

  get count(): number {
    return this.n;
  }

  summary(): { count: number; p50Ms: number; p99Ms: number; meanMs: number } {
    if (this.n === 0) return { count: 0, p50Ms: 0, p99Ms: 0, meanMs: 0 };
    const sorted = this.durations.slice(0, this.n).sort();
    const at = (q: number) => sorted[Math.min(this.n - 1, Math.floor(q * this.n))] ?? 0;
    let sum = 0;
    for (const d of sorted) sum += d;
    return { count: this.n, p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), meanMs: round(sum / this.n) };
  }
}

export class MetricsRegistry {
  private readonly stages = new Map<string, StageMetrics>();

  stage(name: string): StageMetrics {
    let m = this.stages.get(name);
    if (!m) {
      m = new StageMetrics();
      this.stages.set(name, m);
    }
    return m;
  }

  /** Runs `fn` and records how long it took under `name`. */
  time<T>(name: string, fn: () => T): T {
    const start = performance.now();
    try {
      return fn();
    } finally {
      this.stage(name).record(performance.now() - start);
    }
  }

  summary(): Record<string, ReturnType<StageMetrics['summary']>> {
    return Object.fromEntries([...this.stages].map(([k, v]) => [k, v.summary()]));
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
