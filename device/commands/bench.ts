import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { benchFoundation } from '../../tools/bench/foundation.ts';
import { type BenchReport, formatTable, type Metric, machineFacts } from '../../tools/bench/report.ts';
import { BadInputError } from '../errors.ts';

/** Benchmark groups by name; each returns the metrics it measured in this run. */
const GROUPS: Record<string, () => Metric[] | Promise<Metric[]>> = {
  foundation: () => benchFoundation(),
  models: async () => (await import('../../tools/bench/models.ts')).benchModels(),
  eye: async () => (await import('../../tools/bench/eye.ts')).benchEye(),
  sync: async () => (await import('../../sync/bench.ts')).benchSync(),
};

export async function benchCommand(options: { only?: string[]; json?: string }): Promise<number> {
  const names = options.only ?? Object.keys(GROUPS);
  for (const n of names) {
    if (!(n in GROUPS)) throw new BadInputError(`--only: unknown benchmark group ${n} (known: ${Object.keys(GROUPS)})`);
  }
  const metrics: Metric[] = [];
  for (const n of names) {
    process.stderr.write(`bench: ${n}…\n`);
    metrics.push(...(await (GROUPS[n] as () => Metric[] | Promise<Metric[]>)()));
  }
  const report: BenchReport = { machine: machineFacts(), metrics };
  process.stdout.write(`${formatTable(metrics)}\n`);
  if (options.json) {
    mkdirSync(dirname(options.json), { recursive: true });
    writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
  }
  return 0;
}
