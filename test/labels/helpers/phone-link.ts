import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import pino from 'pino';
import { commandEffects } from '../../../device/command-effects.ts';
import type { LabelService } from '../../../pipelines/labels/label-service.ts';
import { CaptureState } from '../../../pipelines/snippets/capture-state.ts';
import type { Db } from '../../../storage/db.ts';
import { DeviceState } from '../../../storage/device-state.ts';
import { type CommandReplyV1, commandReplyV1 } from '../../../sync/commands/reply.ts';
import { syncConfigSchema } from '../../../sync/config.ts';
import { type SyncHandle, startSync } from '../../../sync/index.ts';
import { type Receiver, startReceiver } from '../../../tools/receiver/receiver.ts';
import { type BrokerSetup, closeClient, mqttClient, PHONE, setUpBroker } from '../../sync/helpers/brokers.ts';
import { waitFor } from '../../sync/helpers/fixtures.ts';

export const DEVICE_TOPIC = 'glance/dev1';
export const quiet = pino({ level: process.env.GLANCE_LOG_LEVEL ?? 'warn' }, pino.destination(2));

export interface PhoneEvent {
  readonly kind: string;
  readonly recordId: string;
  readonly data: Record<string, unknown>;
}

/** A device's label service on a real embedded broker, a phone receiver writing `<dir>/phone`, and a phone client. */
export interface PhoneLink {
  readonly sync: SyncHandle;
  /** Publishes `cmd/<name>` from the phone and resolves to the device's reply. */
  command(name: string, body: Record<string, unknown>): Promise<CommandReplyV1>;
  /** The events of `kind` the phone has stored so far (its `events.jsonl`), in arrival order. */
  events(kind: string): PhoneEvent[];
  /** Stops the phone, the receiver, the device's sync and the broker; a second call does nothing. */
  stop(): Promise<void>;
}

export async function startPhoneLink(options: {
  readonly db: Db;
  readonly dir: string;
  readonly labels: LabelService;
  readonly emotionModel?: string;
  /** Commands whose replies the phone listens for. */
  readonly commands: readonly string[];
}): Promise<PhoneLink> {
  const { db, dir, labels } = options;
  const broker: BrokerSetup = await setUpBroker('embedded');
  const effects = commandEffects({
    capture: new CaptureState(new DeviceState(db)),
    models: () => Promise.reject(new Error('no models in this test')),
    recalibrate: undefined,
    sessionId: 's1',
    db,
    dataDir: dir,
    labels,
    ...(options.emotionModel ? { emotionModel: options.emotionModel } : {}),
  });
  const sync = await startSync({
    db,
    config: syncConfigSchema.parse({ broker: broker.brokerConfig, reconnectMs: 200 }),
    deviceId: 'dev1',
    logger: quiet,
    status: () => ({ capture: 'running' as const, models: {} }),
    effects,
  });
  const outDir = join(dir, 'phone');
  const receiver: Receiver = startReceiver({
    ...{ url: broker.phoneUrl, deviceId: 'dev1', outDir, logger: quiet, reconnectMs: 200 },
    ...PHONE,
  });
  const phone: MqttClient = await mqttClient(broker.phoneUrl, PHONE);
  const replies: CommandReplyV1[] = [];
  phone.on('message', (_topic, payload) => replies.push(commandReplyV1.parse(JSON.parse(payload.toString()))));
  await phone.subscribeAsync(
    options.commands.map((c) => `${DEVICE_TOPIC}/cmd/${c}/reply`),
    { qos: 1 },
  );
  let stopped = false;
  return {
    sync,
    events(kind) {
      const file = join(outDir, 'events.jsonl');
      if (!existsSync(file)) return [];
      return readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as PhoneEvent)
        .filter((e) => e.kind === kind);
    },
    async command(name, body) {
      const count = replies.length;
      const payload = JSON.stringify({ v: 1, correlationId: `c-${count}`, ...body });
      await phone.publishAsync(`${DEVICE_TOPIC}/cmd/${name}`, payload, { qos: 1 });
      await waitFor(`the ${name} reply`, () => replies.length > count);
      return replies[count] as CommandReplyV1;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await closeClient(phone);
      await receiver.stop();
      await sync.stop();
      await broker.stop();
    },
  };
}
