import pino from 'pino';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { type Receiver, startReceiver } from '../../../tools/receiver/receiver.ts';
import { type BrokerKind, type BrokerSetup, PHONE, setUpBroker } from './brokers.ts';

export const DEVICE_ID = 'dev1';
export const quiet = pino({ level: process.env.GLANCE_LOG_LEVEL ?? 'warn' }, pino.destination(2));

export interface BrokerSuite {
  /** The suite's broker; valid inside tests (started in beforeAll). */
  readonly broker: () => BrokerSetup;
  /** Run after the current test, last registered first. */
  readonly cleanup: (fn: () => Promise<void> | void) => void;
  /** A phone receiver on the suite's broker, stopped after the test. */
  readonly receiverFor: (outDir: string, onChunk?: (transferId: string, index: number) => void) => Receiver;
  /** A device sync config against the suite's broker with fast reconnects, plus `extra`. */
  readonly config: (extra?: Record<string, unknown>) => Record<string, unknown>;
}

/**
 * The set-up every broker contract suite shares: one broker of `kind` for the describe block, per-test cleanups
 * in reverse order, and a phone receiver factory. Call it at the top of a `describe`.
 */
export function useBrokerSuite(kind: BrokerKind): BrokerSuite {
  let broker: BrokerSetup | undefined;
  const cleanups: (() => Promise<void> | void)[] = [];
  const current = (): BrokerSetup => {
    if (!broker) throw new Error(`the ${kind} broker is not started (use it inside a test)`);
    return broker;
  };
  beforeAll(async () => {
    broker = await setUpBroker(kind);
  });
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  afterAll(async () => {
    await broker?.stop();
  });
  return {
    broker: current,
    cleanup: (fn) => cleanups.push(fn),
    receiverFor: (outDir, onChunk) => {
      const receiver = startReceiver({
        ...{ url: current().phoneUrl, deviceId: DEVICE_ID, outDir, logger: quiet, reconnectMs: 200 },
        ...PHONE,
        ...(onChunk ? { onChunk } : {}),
      });
      cleanups.push(() => receiver.stop());
      return receiver;
    },
    config: (extra = {}) => ({ broker: current().brokerConfig, reconnectMs: 200, ...extra }),
  };
}
