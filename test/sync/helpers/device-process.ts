import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { DeviceArgs } from './device-main.ts';

const MAIN = join(import.meta.dirname, 'device-main.ts');

/** The device's sync running in a child process (see device-main.ts). */
export class DeviceProcess {
  private constructor(private readonly child: ChildProcess) {}

  static async start(args: DeviceArgs): Promise<DeviceProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, JSON.stringify(args)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env },
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready ')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`device process exited with ${code} before it was ready`)));
    });
    return new DeviceProcess(child);
  }

  /** SIGKILL: no clean disconnect, no last words; the broker publishes the will. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.child.kill('SIGTERM');
    });
  }
}
