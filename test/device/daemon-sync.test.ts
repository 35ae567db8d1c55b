import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { exitOf, glance, SAMPLE, startDaemon, tmp } from '../helpers/cli.ts';

/**
 * The daemon with its embedded broker, as the phone meets it: a retained status, and a pause command that
 * really pauses capture (the durable state the snippet recorder reads).
 */
describe('daemon and phone over the embedded broker', () => {
  it('publishes its status and obeys a pause command from the phone', async () => {
    const dir = tmp();
    const config = join(dir, 'glance.yaml');
    writeFileSync(
      config,
      [
        `device: { id: e2e, dataDir: ${dir} }`,
        `source: { type: replay, session: ${SAMPLE}, pace: realtime }`,
        'sync:',
        '  broker: { type: embedded, tcpPort: 0, wsPort: 0, users: [{ username: phone, password: phone-secret }] }',
        '  companion: { port: 0 }',
      ].join('\n'),
    );
    const db = join(dir, 'g.db');
    const { child, stderr } = await startDaemon(['run', '--config', config, '--db', db, '--sync']);
    const deadline = Date.now() + 20_000;
    let port = 0;
    while (port === 0 && Date.now() < deadline) {
      const line = stderr()
        .split('\n')
        .find((l) => l.includes('embedded MQTT broker listening'));
      if (line) port = (JSON.parse(line) as { tcpPort: number }).tcpPort;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(port).toBeGreaterThan(0);

    const phone = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      username: 'phone',
      password: 'phone-secret',
      protocolVersion: 4,
    });
    const messages = new Map<string, unknown>();
    phone.on('message', (topic, payload) => messages.set(topic, JSON.parse(payload.toString())));
    await phone.subscribeAsync(['glance/e2e/status', 'glance/e2e/cmd/+/reply', 'glance/e2e/cmd/models/+/reply'], {
      qos: 1,
    });
    const until = async (what: () => boolean) => {
      const end = Date.now() + 15_000;
      while (!what() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    };
    await until(() => messages.has('glance/e2e/status'));
    expect(messages.get('glance/e2e/status')).toMatchObject({ v: 1, online: true });

    await phone.publishAsync('glance/e2e/cmd/pause', JSON.stringify({ v: 1, correlationId: 'c-1' }), { qos: 1 });
    await until(() => messages.has('glance/e2e/cmd/pause/reply'));
    expect(messages.get('glance/e2e/cmd/pause/reply')).toMatchObject({ ok: true, correlationId: 'c-1' });
    expect(glance(['capture', 'status', '--db', db]).stdout).toContain('capture paused');

    // Calibration from the phone starts a marker calibration in the running eye tracker.
    await phone.publishAsync('glance/e2e/cmd/calibrate', JSON.stringify({ v: 1, correlationId: 'c-2', points: 9 }), {
      qos: 1,
    });
    await until(() => messages.has('glance/e2e/cmd/calibrate/reply'));
    expect(messages.get('glance/e2e/cmd/calibrate/reply')).toMatchObject({ ok: true, correlationId: 'c-2' });
    // A model command goes through the registry's checks: an unknown version is refused, with the reason.
    await phone.publishAsync(
      'glance/e2e/cmd/models/install',
      JSON.stringify({ v: 1, correlationId: 'c-3', name: 'pupil', version: '9.9.9' }),
      { qos: 1 },
    );
    await until(() => messages.has('glance/e2e/cmd/models/install/reply'));
    expect(messages.get('glance/e2e/cmd/models/install/reply')).toMatchObject({ correlationId: 'c-3' });
    expect(JSON.stringify(messages.get('glance/e2e/cmd/models/install/reply'))).toContain('9.9.9');

    await phone.endAsync();
    child.kill('SIGTERM');
    expect(await exitOf(child), stderr()).toBe(0);
    expect(readFileSync(db).length).toBeGreaterThan(0);
  });
});
