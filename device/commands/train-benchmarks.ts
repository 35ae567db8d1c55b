/**
 * Benchmarks that `glance train NAME` runs instead of a model experiment. They train several small models on
 * real data and write a report (JSON, PNG, markdown) rather than one exported model, so the model-only flags
 * make no sense for them and are refused. After a run into the default report directory, the toolchain's
 * metrics.json is re-merged so `glance bench --only toolchain` shows the new numbers.
 */

/** Runs `python -m MODULE ARGS` from the toolchain; resolves to its exit code (train.ts's runPythonModule). */
export type PythonRunner = (module: string, args: readonly string[]) => Promise<number>;

/** Benchmark name → the toolchain module that makes its report. */
export const TRAIN_BENCHMARKS: Readonly<Record<string, string>> = {
  'metric-robustness': 'glance_train.metric',
};

export interface BenchmarkFlags {
  readonly set: readonly string[];
  readonly out?: string;
  readonly quiet?: boolean;
  /** Flags given that only a model experiment understands, by their CLI spelling. */
  readonly modelOnly: readonly string[];
}

/** Resolves to the exit code: 2 (bad input) for model-only flags, else the toolchain's. */
export async function runTrainBenchmark(name: string, flags: BenchmarkFlags, python: PythonRunner): Promise<number> {
  const module = TRAIN_BENCHMARKS[name];
  if (module === undefined) throw new Error(`${name} is not a training benchmark`);
  if (flags.modelOnly.length > 0) {
    process.stderr.write(`glance train ${name}: ${flags.modelOnly.join(', ')} only apply to model experiments\n`);
    return 2;
  }
  const args = flags.set.flatMap((kv) => ['--set', kv]);
  if (flags.out) args.push('--out', flags.out);
  if (flags.quiet) args.push('--quiet');
  const code = await python(module, args);
  if (code !== 0 || flags.out) return code;
  return python('reports.toolchain', ['--only', '']);
}
