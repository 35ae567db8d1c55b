import { cpus, totalmem } from 'node:os';

/** One measured number, as `glance bench --json` publishes it (DESIGN.md, "Command line"). */
export interface Metric {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly better: 'higher' | 'lower';
  readonly target?: number;
  readonly baseline?: { readonly name: string; readonly value: number };
  readonly note?: string;
}

export interface BenchReport {
  readonly machine: Record<string, string | number>;
  readonly metrics: Metric[];
}

export function machineFacts(): Record<string, string | number> {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

function meets(m: Metric): string {
  if (m.target === undefined) return '';
  const ok = m.better === 'higher' ? m.value >= m.target : m.value <= m.target;
  return ok ? 'ok' : 'MISS';
}

export function formatTable(metrics: readonly Metric[]): string {
  const rows = metrics.map((m) => [
    m.name,
    formatNumber(m.value),
    m.unit,
    m.target === undefined ? '' : `${m.better === 'higher' ? '≥' : '≤'} ${formatNumber(m.target)}`,
    meets(m),
    m.baseline ? `${m.baseline.name}=${formatNumber(m.baseline.value)}` : '',
  ]);
  const header = ['metric', 'value', 'unit', 'target', '', 'baseline'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function formatNumber(x: number): string {
  if (Number.isInteger(x)) return String(x);
  return Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(4);
}
