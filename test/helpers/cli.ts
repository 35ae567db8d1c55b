import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
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

/**
 * Test suites run daemons side by side, and each would otherwise open the embedded MQTT broker on the default
 * ports: `glance run` gets `--no-sync` unless a test asks for sync itself (test/sync covers the phone link).
 */
function withoutSync(args: string[]): string[] {
  return args[0] === 'run' && !args.includes('--broker') && !args.includes('--sync') ? [...args, '--no-sync'] : args;
}

/**
 * Likewise each `glance run` gets a data directory of its own (snippets, partial files swept at start) unless the
 * test chose one, by flag or in its config file.
 */
function isolated(args: string[]): string[] {
  const own = args[0] === 'run' && !args.includes('--data-dir') && !args.includes('--config');
  return withoutSync(own ? [...args, '--data-dir', tmp('glance-data-')] : args);
}

/** Runs the real CLI in a subprocess, as a user would. */
export function glance(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(GLANCE, isolated(args), {
    encoding: 'utf8',
    env: { ...process.env, GLANCE_LOG_LEVEL: 'warn', ...env },
    timeout: 300_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface ReplayRun extends CliResult {
  readonly db: string;
  readonly summary: string;
}

/**
 * `glance run --once` over a recorded session with `config` (JSON) written into `dir`, its database, summary and
 * data directory there too: what a test of a stage on a whole session starts from.
 */
export function replayOnce(session: string, dir: string, config: object): ReplayRun {
  const file = join(dir, 'glance.json');
  writeFileSync(file, JSON.stringify(config));
  const db = join(dir, 'g.db');
  const summary = join(dir, 's.json');
  const args = ['run', '--config', file, '--replay', session, '--once', '--db', db, '--summary', summary];
  return { ...glance([...args, '--data-dir', join(dir, 'data')]), db, summary };
}

export function glanceAsync(args: string[], env: Record<string, string> = {}) {
  return spawn(GLANCE, isolated(args), { env: { ...process.env, GLANCE_LOG_LEVEL: 'warn', ...env }, stdio: 'pipe' });
}

/** Starts the CLI with info logs and resolves once the daemon says it has started (its handlers are in place). */
export async function startDaemon(args: string[], timeoutMs = 60_000) {
  const child = glanceAsync(args, { GLANCE_LOG_LEVEL: 'info' });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const deadline = Date.now() + timeoutMs;
  while (!stderr.includes('daemon started')) {
    if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`daemon did not start in ${timeoutMs} ms: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, stderr: () => stderr };
}

export function exitOf(child: ReturnType<typeof glanceAsync>): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('exit', (code) => r(code)));
}
