import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const SAMPLE = join(ROOT, 'sample/session');
export const GLANCE = join(ROOT, 'bin/glance');
export const OPENCV_DATA = '/usr/share/doc/opencv-doc/examples/data';

export function tmp(prefix = 'glance-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real CLI in a subprocess, as a user would. */
export function glance(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(GLANCE, args, {
    encoding: 'utf8',
    env: { ...process.env, GLANCE_LOG_LEVEL: 'warn', ...env },
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function glanceAsync(args: string[], env: Record<string, string> = {}) {
  return spawn(GLANCE, args, { env: { ...process.env, GLANCE_LOG_LEVEL: 'warn', ...env }, stdio: 'pipe' });
}
