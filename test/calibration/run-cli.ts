import { glance } from '../helpers/cli.ts';

/** Runs the real `glance calibrate …` in a subprocess, without a shell (globs stay quoted). */
export function calibrateCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return glance(['calibrate', ...args]);
}
