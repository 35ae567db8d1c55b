/**
 * `tsx models/parity-cli.ts MODEL_DIR [--tolerance T]`: the parity check the Python export runs as its last step.
 * Prints a JSON ParityReport on stdout; exits 0 when parity holds, 1 when it does not, 2 when it cannot run.
 */
import { checkParity } from './parity.ts';

const [dir, flag, value] = process.argv.slice(2);
if (!dir || (flag !== undefined && flag !== '--tolerance')) {
  process.stderr.write('usage: parity-cli.ts MODEL_DIR [--tolerance T]\n');
  process.exit(2);
}
try {
  const report = await checkParity(dir, value === undefined ? undefined : Number(value));
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exitCode = report.ok ? 0 : 1;
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  process.stdout.write(`${JSON.stringify({ ok: false, maxAbsDiff: null, message })}\n`);
  process.exitCode = 2;
}
