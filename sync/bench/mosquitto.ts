import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export interface LocalMosquittoOptions {
  /** Default: a free port. Kept across restart(), so clients reconnect to the same address. */
  readonly port?: number;
  /** With users, anonymous clients are refused (password_file made with mosquitto_passwd). */
  readonly users?: readonly { readonly username: string; readonly password: string }[];
  /** Extra mosquitto.conf lines. */
  readonly extra?: readonly string[];
}

/**
 * A mosquitto for tests and benchmarks: listens on 127.0.0.1 only, generated config in a temporary directory,
 * persistence off (a restart forgets sessions and retained messages, the harshest case for delivery).
 */
export class LocalMosquitto {
  private child: ChildProcess | undefined;
  private stderr = '';

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(options: LocalMosquittoOptions = {}): Promise<LocalMosquitto> {
    const dir = mkdtempSync(join(tmpdir(), 'glance-mosquitto-'));
    const port = options.port ?? (await freePort());
    // Run as whoever we are: as root, mosquitto would switch to its own user, who cannot read our temp dir.
    const lines = [`user ${userInfo().username}`, `listener ${port} 127.0.0.1`, 'persistence false', 'log_dest stderr'];
    lines.push('log_type error');
    if (options.users && options.users.length > 0) {
      const passwords = join(dir, 'passwd');
      options.users.forEach((u, i) => {
        execFileSync('mosquitto_passwd', [...(i === 0 ? ['-c'] : []), '-b', passwords, u.username, u.password]);
      });
      lines.push('allow_anonymous false', `password_file ${passwords}`);
    } else {
      lines.push('allow_anonymous true');
    }
    writeFileSync(join(dir, 'mosquitto.conf'), `${[...lines, ...(options.extra ?? [])].join('\n')}\n`);
    const broker = new LocalMosquitto(port, dir);
    await broker.launch();
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Kills the broker without warning (SIGKILL): sessions, queues and retained messages are gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
    this.child = undefined;
  }

  /** Starts it again on the same port; resolves once it accepts connections. */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    this.stderr = '';
    const child = spawn(MOSQUITTO, ['-c', join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.child = child;
    const deadline = Date.now() + 5000;
    while (!(await accepts(this.port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`mosquitto did not start on port ${this.port}: ${this.stderr.trim()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
