import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { benchFoundation } from '../../tools/bench/foundation.ts';
import { type BenchReport, formatTable, type Metric, machineFacts } from '../../tools/bench/report.ts';
import { BadInputError } from '../errors.ts';
import { REPO_ROOT } from '../paths.ts';

/** Benchmark groups by name; each returns the metrics it measured in this run. */
const GROUPS: Record<string, () => Metric[] | Promise<Metric[]>> = {
  foundation: () => benchFoundation(),
  models: async () => (await import('../../tools/bench/models.ts')).benchModels(),
  eye: async () => (await import('../../tools/bench/eye.ts')).benchEye(),
  memx: async () => (await import('../../tools/bench/memx.ts')).benchMemx(),
  // MAT, condensation and DEAL take minutes of training: their report is made by the toolchain
  // (`cd tools/train && python3 -m reports.toolchain`) and read here.
  toolchain: () => readToolchainReport(),
  sync: async () => (await import('../../sync/bench.ts')).benchSync(),
  schedulers: async () => (await import('../../tools/bench/schedulers.ts')).benchSchedulers(),
  emotion: async () => (await import('../../tools/bench/emotion.ts')).benchEmotion(),
  faces: async () => (await import('../../tools/bench/faces.ts')).benchFaces(),
  segmentation: async () => (await import('../../tools/bench/segmentation.ts')).benchSegmentation(),
};

function readToolchainReport(): Metric[] {
  const file = join(REPO_ROOT, 'tools/train/reports/metrics.json');
  if (!existsSync(file)) throw new BadInputError(`no toolchain report at ${file}: run python3 -m reports.toolchain`);
  return JSON.parse(readFileSync(file, 'utf8')) as Metric[];
}

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
