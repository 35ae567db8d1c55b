import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../storage/db.ts';
import { TransferRepository } from '../../storage/transfers.ts';
import { type CommandReplyV1, commandReplyV1 } from '../../sync/commands/reply.ts';
import { syncConfigSchema } from '../../sync/config.ts';
import { type SyncHandle, startSync } from '../../sync/index.ts';
import { type BrokerKind, type BrokerSetup, closeClient, mqttClient, PHONE, setUpBroker } from './helpers/brokers.ts';
import { capturingLogger, recordingEffects, seedDevice, syncTables, tmp, waitFor } from './helpers/fixtures.ts';

const ROOT = 'glance/dev1';

/**
 * Commands and bad input, against both brokers. No phone announces itself here, so nothing is being sent and the
 * database must stay exactly as it was through every refused message.
 */
describe.each(['embedded', 'mosquitto'] as BrokerKind[])('commands through %s', (kind) => {
  let broker: BrokerSetup;
  let db: Db;
  let sync: SyncHandle;
  let phone: MqttClient;
  let before: string;
  let transferId: string;
  const { effects, calls } = recordingEffects();
  const log = capturingLogger();
  const replies: { topic: string; reply: CommandReplyV1; correlationData?: string }[] = [];

  beforeAll(async () => {
    broker = await setUpBroker(kind);
    const seeded = seedDevice(tmp(), 5, [10_000]);
    db = seeded.db;
    transferId = (seeded.files[0] as { transferId: string }).transferId;
    new TransferRepository(db).begin(transferId, 4096); // mid-transfer, as if interrupted
    before = syncTables(db);
    const config = syncConfigSchema.parse({ broker: broker.brokerConfig, commands: { maxPayloadBytes: 1024 } });
    const status = () => ({ capture: 'running' as const, models: {} });
    sync = await startSync({ db, config, deviceId: 'dev1', logger: log.logger, status, effects });
    phone = await mqttClient(broker.phoneUrl, { ...PHONE, protocolVersion: kind === 'mosquitto' ? 5 : 4 });
    phone.on('message', (topic, payload, packet) => {
      const correlation = packet.properties?.correlationData?.toString();
      replies.push({
        topic,
        reply: commandReplyV1.parse(JSON.parse(payload.toString())),
        correlationData: correlation,
      });
    });
    await phone.subscribeAsync([`${ROOT}/cmd/+/reply`, `${ROOT}/cmd/+/+/reply`], { qos: 1 });
    await waitFor('the device online', () => sync.stats().connected);
  });
  afterAll(async () => {
    await closeClient(phone);
    await sync?.stop();
    db?.close();
    await broker?.stop();
  });

  async function command(name: string, payload: string | Buffer, correlationData?: string) {
    const count = replies.length;
    await phone.publishAsync(`${ROOT}/cmd/${name}`, payload, {
      qos: 1,
      ...(correlationData ? { properties: { correlationData: Buffer.from(correlationData) } } : {}),
    });
    await waitFor(`a reply to ${name}`, () => replies.length > count);
    return replies[count] as (typeof replies)[number];
  }

  it('runs a valid command and answers with its correlation id', async () => {
    const r = await command('pause', JSON.stringify({ v: 1, correlationId: 'c-1', reason: 'privacy' }), 'corr-1');
    expect(r.topic).toBe(`${ROOT}/cmd/pause/reply`);
    expect(r.reply).toEqual({ v: 1, command: 'pause', correlationId: 'c-1', ok: true, result: { capture: 'paused' } });
    // MQTT 5 correlation data is echoed where the broker speaks 5.
    expect(r.correlationData).toBe(kind === 'mosquitto' ? 'corr-1' : undefined);
    const install = await command(
      'models/install',
      JSON.stringify({ v: 1, correlationId: 'c-2', name: 'pupil', version: '2.0.0' }),
    );
    expect(install.topic).toBe(`${ROOT}/cmd/models/install/reply`);
    expect(install.reply).toMatchObject({
      ok: true,
      result: { activated: false, reason: 'signature does not verify' },
    });
    expect(calls).toEqual(['pause:privacy', 'install:pupil@2.0.0']);
  });

  it('answers bad commands with an error and changes nothing', async () => {
    calls.length = 0;
    const cases: [string, string | Buffer, string, string | null][] = [
      ['pause', '{"v":1,"correlationId":', 'malformed_json', null],
      ['selfdestruct', JSON.stringify({ v: 1, correlationId: 'c-3' }), 'unknown_command', 'c-3'],
      [
        'label',
        JSON.stringify({ v: 1, correlationId: 'c-4', requestId: 'r', label: 'x'.repeat(2000) }),
        'too_large',
        null,
      ],
      ['calibrate', JSON.stringify({ v: 1, correlationId: 'c-5', points: 7 }), 'invalid', 'c-5'],
      ['resume', JSON.stringify({ v: 2, correlationId: 'c-6' }), 'invalid', 'c-6'],
      [
        'label',
        JSON.stringify({ v: 1, correlationId: 'c-7', requestId: 'r', label: 'cat', extra: 1 }),
        'invalid',
        'c-7',
      ],
      ['models/rollback', Buffer.from([0xff, 0xfe, 0x00]), 'malformed_json', null],
    ];
    for (const [name, payload, code, correlationId] of cases) {
      const r = await command(name, payload);
      expect(r.reply, name).toMatchObject({ ok: false, command: name, correlationId, error: { code } });
    }
    expect(calls).toEqual([]);
    expect(syncTables(db)).toBe(before);
    expect(sync.stats().commands.refused).toBe(cases.length);
  });

  it('ignores and logs snippet acks that are unknown, malformed or carry a wrong checksum', async () => {
    const acks: [string, string, RegExp][] = [
      ['no-such-transfer', JSON.stringify({ v: 1, next: 1, missing: [] }), /unknown transfer/],
      [transferId, JSON.stringify({ v: 1, next: 3, missing: [], sha256: '0'.repeat(64) }), /different sha256/],
      [transferId, '{not json', /not JSON/],
      [transferId, JSON.stringify({ v: 1, next: 99, missing: [] }), /past the last chunk/],
    ];
    for (const [id, payload] of acks) await phone.publishAsync(`${ROOT}/snippets/${id}/ack`, payload, { qos: 1 });
    const ignored = () => log.records().filter((r) => r.msg === 'snippet ack ignored');
    await waitFor('the acks to be handled', () => ignored().length >= acks.length);
    expect(ignored().map((r) => String(r.reason))).toEqual(acks.map(([, , reason]) => expect.stringMatching(reason)));
    expect(syncTables(db)).toBe(before);
  });
});
