import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../storage/db.ts';
import { freePort } from '../../sync/bench/mosquitto.ts';
import { syncConfigSchema } from '../../sync/config.ts';
import { type SyncHandle, startSync } from '../../sync/index.ts';
import { closeClient, grantedQos, mqttClient, PHONE, setUpBroker } from './helpers/brokers.ts';
import { capturingLogger, recordingEffects, seedDevice, syncTables, tmp, waitFor } from './helpers/fixtures.ts';

const ROOT = 'glance/dev1';

/** The embedded broker's authentication and per-client access rules, seen from a phone and from intruders. */
describe('embedded broker access control', () => {
  let db: Db;
  let sync: SyncHandle;
  let tcp = '';
  let ws = '';
  const { effects, calls } = recordingEffects();
  const log = capturingLogger();
  const clients: MqttClient[] = [];
  const client = async (url: string, options: Parameters<typeof mqttClient>[1]) => {
    const c = await mqttClient(url, options);
    clients.push(c);
    return c;
  };
  /** On MQTT 3.1.1 a refused publish can only be answered by closing the connection. */
  const closedBy = (c: MqttClient) => new Promise<void>((resolve) => c.once('close', () => resolve()));
  const refusals = (msg: string) => log.records().filter((r) => r.msg === msg);

  beforeAll(async () => {
    const broker = await setUpBroker('embedded');
    db = seedDevice(tmp(), 3, []).db;
    const config = syncConfigSchema.parse({ broker: broker.brokerConfig });
    sync = await startSync({
      ...{ db, config, deviceId: 'dev1', logger: log.logger, effects },
      status: () => ({ capture: 'running', models: {} }),
    });
    tcp = broker.phoneUrl;
    ws = `ws://127.0.0.1:${broker.wsPort}`;
    await waitFor('the device online', () => sync.stats().connected);
  });
  afterAll(async () => {
    for (const c of clients) await closeClient(c);
    await sync?.stop();
    db?.close();
  });

  it('refuses a wrong password, an unknown user, and a phone taking the device client id', async () => {
    await expect(mqttClient(tcp, { username: 'phone', password: 'wrong-password' })).rejects.toThrow(/Bad username/i);
    await expect(mqttClient(tcp, { username: 'mallory', password: 'phone-secret-1' })).rejects.toThrow(/Bad username/i);
    await expect(mqttClient(tcp)).rejects.toThrow(/Bad username/i);
    await expect(mqttClient(tcp, { ...PHONE, clientId: 'glance-dev1' })).rejects.toThrow(/Identifier rejected/i);
    expect(sync.stats().connected).toBe(true); // the device kept its connection
  });

  it('lets a phone subscribe to its device only', async () => {
    const phone = await client(tcp, PHONE);
    const granted = await grantedQos(phone, [`${ROOT}/#`, 'glance/other/#', '#', '+/dev1/status', '$SYS/#']);
    expect(granted).toEqual([1, 128, 128, 128, 128]);
    expect(refusals('subscription refused')).toHaveLength(4);
  });

  it('refuses a phone publishing to another device, forging events or retaining a command', async () => {
    const before = syncTables(db);
    const forbidden: [string, string, boolean][] = [
      ['glance/other/cmd/pause', '{"v":1,"correlationId":"x"}', false],
      [`${ROOT}/events/snippet`, '{"v":1}', false],
      [`${ROOT}/cmd/pause/reply`, '{"v":1}', false],
      [`${ROOT}/cmd/pause`, '{"v":1,"correlationId":"x"}', true],
      [`${ROOT}/status`, '{"v":1,"online":false}', false],
    ];
    for (const [topic, payload, retain] of forbidden) {
      const phone = await client(tcp, PHONE);
      const closed = closedBy(phone);
      phone.publish(topic, payload, { qos: 1, retain });
      await closed;
    }
    expect(refusals('publish refused').map((r) => r.topic)).toEqual(forbidden.map(([topic]) => topic));
    expect(calls).toEqual([]);
    expect(syncTables(db)).toBe(before);
  });

  it('serves a phone over WebSocket with the same rules', async () => {
    const phone = await client(ws, PHONE);
    const replies: string[] = [];
    phone.on('message', (_topic, payload) => replies.push(payload.toString()));
    await phone.subscribeAsync(`${ROOT}/cmd/+/reply`, { qos: 1 });
    await phone.publishAsync(`${ROOT}/cmd/resume`, JSON.stringify({ v: 1, correlationId: 'ws-1' }), { qos: 1 });
    await waitFor('the reply', () => replies.length === 1);
    expect(JSON.parse(replies[0] as string)).toMatchObject({ ok: true, correlationId: 'ws-1' });
    expect(calls).toEqual(['resume']);
    expect(await grantedQos(phone, ['glance/other/#'])).toEqual([128]);
  });
});

/** The embedded broker over TLS (TCP and WebSocket), with a self-signed certificate the phone trusts. */
describe('embedded broker over TLS', () => {
  const dir = tmp();
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  let db: Db;
  let sync: SyncHandle;
  let tcpPort = 0;
  let wsPort = 0;
  const clients: MqttClient[] = [];
  const { effects, calls } = recordingEffects();

  beforeAll(async () => {
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'],
        ...['-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert],
      ],
      { stdio: 'ignore' },
    );
    db = seedDevice(dir, 0, []).db;
    tcpPort = await freePort();
    wsPort = await freePort();
    const config = syncConfigSchema.parse({
      broker: { type: 'embedded', tcpPort, wsPort, users: [PHONE], tls: { cert, key } },
    });
    sync = await startSync({
      ...{ db, config, deviceId: 'dev1', effects },
      logger: pino({ level: 'warn' }, pino.destination(2)),
      status: () => ({ capture: 'running', models: {} }),
    });
    await waitFor('the device on its own TLS broker', () => sync.stats().connected);
  });
  afterAll(async () => {
    for (const c of clients) await closeClient(c);
    await sync?.stop();
    db?.close();
  });

  it.each(['mqtts', 'wss'])('serves a phone over %s', async (scheme) => {
    const port = scheme === 'mqtts' ? tcpPort : wsPort;
    const phone = await mqttClient(`${scheme}://127.0.0.1:${port}`, { ...PHONE, ca: readFileSync(cert) });
    clients.push(phone);
    const replies: string[] = [];
    phone.on('message', (_t, payload) => replies.push(payload.toString()));
    await phone.subscribeAsync('glance/dev1/cmd/+/reply', { qos: 1 });
    await phone.publishAsync('glance/dev1/cmd/resume', JSON.stringify({ v: 1, correlationId: scheme }), { qos: 1 });
    await waitFor('the reply', () => replies.length === 1);
    expect(JSON.parse(replies[0] as string)).toMatchObject({ ok: true, correlationId: scheme });
  });

  it('refuses a plain-text connection and a phone that does not trust the certificate', async () => {
    await expect(mqttClient(`mqtt://127.0.0.1:${tcpPort}`, PHONE)).rejects.toThrow();
    await expect(mqttClient(`mqtts://127.0.0.1:${tcpPort}`, PHONE)).rejects.toThrow(/self.signed|certificate/i);
    expect(calls).toEqual(['resume', 'resume']);
  });
});
