import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SerialPort } from 'serialport';

/** Polls `ready` every 10 ms; rejects naming `what` after `timeoutMs`. */
export async function waitFor(what: string, ready: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Two pseudo-terminals joined by socat: bytes written to `a` come out of `b`, like the glasses' UART. Stopping it
 * makes both ptys vanish, as a pulled cable does; starting it again recreates them under the same paths.
 */
export class PtyPair {
  readonly a: string;
  readonly b: string;
  private socat: ChildProcess | null = null;
  private stderr = '';

  constructor(dir: string) {
    this.a = join(dir, 'dev-a');
    this.b = join(dir, 'dev-b');
  }

  async start(): Promise<void> {
    this.removeLinks();
    this.stderr = '';
    const socat = spawn(
      '/usr/bin/socat',
      ['-d', '-d', `pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.socat = socat;
    socat.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    await waitFor(
      `socat to create ${this.a} and ${this.b}`,
      () => {
        if (socat.exitCode !== null) throw new Error(`socat exited with ${socat.exitCode}: ${this.stderr}`);
        return existsSync(this.a) && existsSync(this.b);
      },
      5_000,
    );
  }

  /** SIGTERM lets socat remove its links; SIGKILL only if it does not go. */
  async stop(): Promise<void> {
    const socat = this.socat;
    this.socat = null;
    if (socat && socat.exitCode === null && socat.signalCode === null) {
      const exited = new Promise<void>((resolve) => socat.once('exit', () => resolve()));
      socat.kill('SIGTERM');
      const timer = setTimeout(() => socat.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(timer);
    }
    this.removeLinks();
  }

  /** Opens the device end, as the microcontroller would write to it. */
  async openDevice(): Promise<SerialPort> {
    const port = new SerialPort({ path: this.a, baudRate: 115_200, autoOpen: false });
    // The device end is torn down with socat in the unplug test; its disconnect is expected, not a failure.
    port.on('error', () => {});
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    return port;
  }

  private removeLinks(): void {
    rmSync(this.a, { force: true });
    rmSync(this.b, { force: true });
  }
}

export async function writeAll(port: SerialPort, data: Buffer | string): Promise<void> {
  port.write(data);
  await new Promise<void>((resolve, reject) => port.drain((err) => (err ? reject(err) : resolve())));
}

export async function closePort(port: SerialPort | null): Promise<void> {
  if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
}
