import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { EXIT_BAD_INPUT } from '../errors.ts';
import { REPO_ROOT } from '../paths.ts';
import { runTrainBenchmark, TRAIN_BENCHMARKS } from './train-benchmarks.ts';

export const TRAIN_DIR = join(REPO_ROOT, 'tools/train');

/**
 * The Python that has PyTorch. Debian's torch lives under /usr/bin/python3, and another python3 earlier on PATH
 * (a venv, pyenv) may not see it; GLANCE_PYTHON overrides both.
 */
export function pythonExecutable(): string {
  if (process.env.GLANCE_PYTHON) return process.env.GLANCE_PYTHON;
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** Runs `python -m MODULE ARGS` from the toolchain with the terminal attached; resolves to its exit code. */
export function runPythonModule(module: string, args: readonly string[]): Promise<number> {
  return new Promise((resolveCode, reject) => {
    const env = { ...process.env, PYTHONPATH: [TRAIN_DIR, process.env.PYTHONPATH].filter(Boolean).join(':') };
    const child = spawn(pythonExecutable(), ['-m', module, ...args], { stdio: 'inherit', env });
    child.on('error', (error) => reject(new Error(`cannot start ${pythonExecutable()}: ${error.message}`)));
    child.on('exit', (code) => resolveCode(code ?? 1)); // killed by a signal: a runtime failure
  });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface TrainFlags {
  config?: string;
  set: string[];
  out?: string;
  worldSize?: string;
  jobs?: string;
  cacheDir?: string;
  version?: string;
  export: boolean;
  quiet?: boolean;
}

function modelOnlyFlags(opts: TrainFlags): string[] {
  const given: [boolean, string][] = [
    [opts.config !== undefined, '--config'],
    [opts.worldSize !== undefined, '--world-size'],
    [opts.jobs !== undefined, '--jobs'],
    [opts.cacheDir !== undefined, '--cache-dir'],
    [opts.version !== undefined, '--version'],
    [!opts.export, '--no-export'],
  ];
  return given.filter(([on]) => on).map(([, flag]) => flag);
}

/**
 * `glance train MODEL`: the experiment tools/train/configs/MODEL.toml (or --config FILE) through the shared
 * trainer, then export + parity check into <run>/model/. The work is Python's (glance_train.train); this is the
 * front door, and the exit code is the trainer's.
 */
export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('train a model in PyTorch (tools/train), test it on held-out data, export ONNX and check parity')
    .argument(
      '<model>',
      `experiment name in tools/train/configs (e.g. pupil) or a benchmark (${Object.keys(TRAIN_BENCHMARKS)})`,
    )
    .option('--config <file>', 'experiment file (.toml/.json) instead of tools/train/configs/<model>.toml')
    .option('--set <key=value>', 'override one experiment value, e.g. train.epochs=3 (repeatable)', collect, [])
    .option('--out <dir>', 'run directory (default data/runs/<model>-<time>)')
    .option('--world-size <n>', 'DistributedDataParallel worker processes on this machine (gloo, CPU)')
    .option('--jobs <n>', 'processes that render the synthetic data')
    .option('--cache-dir <dir>', 'rendered-data cache (default ~/.cache/glance/datasets)')
    .option('--version <v>', 'version of the exported model')
    .option('--no-export', 'stop after training and the held-out test')
    .option('--quiet', 'no progress bar or per-epoch lines')
    .action(async (model: string, opts: TrainFlags) => {
      if (model in TRAIN_BENCHMARKS) {
        process.exitCode = await runTrainBenchmark(
          model,
          { ...opts, modelOnly: modelOnlyFlags(opts) },
          runPythonModule,
        );
        return;
      }
      if (opts.worldSize !== undefined && !/^[1-9]\d*$/.test(opts.worldSize)) {
        process.stderr.write(`glance train: --world-size must be a positive integer, got ${opts.worldSize}\n`);
        process.exitCode = EXIT_BAD_INPUT;
        return;
      }
      const args = [opts.config ?? model, ...opts.set.flatMap((kv) => ['--set', kv])];
      if (opts.out) args.push('--out', opts.out);
      if (opts.worldSize) args.push('--world-size', opts.worldSize);
      if (opts.jobs) args.push('--jobs', opts.jobs);
      if (opts.cacheDir) args.push('--cache-dir', opts.cacheDir);
      if (opts.version) args.push('--version', opts.version);
      if (!opts.export) args.push('--no-export');
      if (opts.quiet) args.push('--quiet');
      process.exitCode = await runPythonModule('glance_train.train', args);
    });
}
