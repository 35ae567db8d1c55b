import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli.ts';

/** Runs `glance calibrate …` through the stand-in entry in a subprocess, without a shell (globs stay quoted). */
export function calibrateCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      join(ROOT, 'node_modules/tsx/dist/esm/index.mjs'),
      join(ROOT, 'test/calibration/calibrate-cli.ts'),
      'calibrate',
      ...args,
    ],
    { encoding: 'utf8', env: { ...process.env, GLANCE_LOG_LEVEL: 'warn' }, timeout: 120_000 },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
