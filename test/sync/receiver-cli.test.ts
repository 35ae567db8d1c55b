import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { syncConfigSchema } from '../../sync/config.ts';
import { type SyncHandle, startSync } from '../../sync/index.ts';
import { PHONE, setUpBroker } from './helpers/brokers.ts';
import { recordingEffects, seedDevice, tmp, waitFor } from './helpers/fixtures.ts';

const CLI = resolve(import.meta.dirname, '../../tools/receiver/cli.ts');
const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0);

/** The reference receiver as a user runs it: `npx tsx tools/receiver/cli.ts --url … --device … --out …`. */
describe('receiver command line', () => {
  let sync: SyncHandle | undefined;
  afterAll(async () => {
    await sync?.stop();
  });

  it('receives into a folder and stops cleanly on SIGTERM', async () => {
    const dir = tmp();
    const broker = await setUpBroker('embedded');
    const { db, files } = seedDevice(dir, 20, [50_000]);
    sync = await startSync({
      ...{ db, deviceId: 'dev1', effects: recordingEffects().effects },
      config: syncConfigSchema.parse({ broker: broker.brokerConfig }),
      logger: pino({ level: 'warn' }, pino.destination(2)),
      status: () => ({ capture: 'running', models: {} }),
    });
    const out = join(dir, 'phone');
    const args = ['--url', broker.phoneUrl, '--device', 'dev1', '--out', out, '--username', PHONE.username];
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args, '--password', PHONE.password], {
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    await waitFor(
      'the records and the snippet',
      () => lines(join(out, 'events.jsonl')) === 20 && lines(join(out, 'snippets.jsonl')) === 1,
    );
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'snippets.jsonl'), 'utf8'))).toMatchObject({ sha256: files[0]?.sha256 });
    db.close();
  });
});
