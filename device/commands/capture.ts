import type { Command } from 'commander';
import { CaptureState } from '../../pipelines/snippets/capture-state.ts';
import { openDatabase } from '../../storage/db.ts';
import { DeviceState } from '../../storage/device-state.ts';

/**
 * `glance capture pause|resume|status`: the wearer's privacy switch. It writes the durable capture state that the
 * running daemon reads before every snippet frame, so a pause takes effect within one frame, survives a restart,
 * and needs no connection to the daemon.
 */
export function registerCaptureCommand(program: Command): void {
  const capture = program.command('capture').description('pause or resume recording of snippets');
  const withState = (fn: (state: CaptureState) => void) => (opts: { db: string }) => {
    const db = openDatabase(opts.db);
    try {
      fn(new CaptureState(new DeviceState(db)));
    } finally {
      db.close();
    }
  };
  const print = (state: CaptureState) => {
    const s = state.status();
    process.stdout.write(`capture ${s.mode}${s.blockedBy ? ` (blocked: ${s.blockedBy})` : ''}\n`);
  };
  for (const [name, act] of [
    ['pause', (s: CaptureState) => s.pause()],
    ['resume', (s: CaptureState) => s.resume()],
    ['status', () => undefined],
  ] as const) {
    capture
      .command(name)
      .option('--db <file>', 'SQLite database file', 'data/glance.db')
      .action(
        withState((state) => {
          act(state);
          print(state);
        }),
      );
  }
}
