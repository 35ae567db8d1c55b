import type { Command } from 'commander';
import { runPythonModule } from './train.ts';

interface ExportFlags {
  checkpoint: string;
  out: string;
  version?: string;
  golden?: string;
  parity: boolean;
}

/**
 * `glance export --checkpoint RUN/best.pt --out DIR`: ONNX (opset 17, dynamic batch) + onnx.checker + golden.json +
 * manifest, then the parity check in onnxruntime-node; exit 1 when parity fails (glance_train.export).
 */
export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('export a trained checkpoint to a parity-checked ONNX model directory (unsigned)')
    .requiredOption('--checkpoint <file>', 'best.pt of a finished glance train run')
    .requiredOption('--out <dir>', 'model directory, e.g. models/zoo/pupil/1.0.0')
    .option('--version <v>', 'model version (default: the experiment file’s)')
    .option('--golden <n>', 'number of golden inputs')
    .option('--no-parity', 'skip the onnxruntime-node parity check (not for models you ship)')
    .action(async (opts: ExportFlags) => {
      const args = ['--checkpoint', opts.checkpoint, '--out', opts.out];
      if (opts.version) args.push('--version', opts.version);
      if (opts.golden) args.push('--golden', opts.golden);
      if (!opts.parity) args.push('--no-parity');
      process.exitCode = await runPythonModule('glance_train.export', args);
    });
}
