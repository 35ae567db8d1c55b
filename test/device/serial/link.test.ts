import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { SerialPort } from 'serialport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LinkStatus, SerialLink, type SerialLogger } from '../../../device/serial/link.ts';
import type { SerialMessage } from '../../../device/serial/protocol.ts';
import { telemetrySink } from '../../../device/serial/telemetry-sink.ts';
import { type Db, openDatabase } from '../../../storage/db.ts';
import { SessionRepository } from '../../../storage/sessions.ts';
import { telemetryWriter } from '../../../storage/telemetry.ts';
import { closePort, PtyPair, waitFor, writeAll } from './pty-pair.ts';
import { garbageLine, random, randomMessage, validLine } from './traffic.ts';

const SESSION = 'serial-test';

interface Harness {
  readonly link: SerialLink;
  readonly statuses: LinkStatus[];
  readonly malformedRaw: string[];
  flushRows(): { seq: number; kind: string; t_ns: bigint; payload: string }[];
}

let dir: string;
let pair: PtyPair;
let db: Db;
let link: SerialLink | null;
let device: SerialPort | null;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'glance-serial-'));
  pair = new PtyPair(dir);
  db = openDatabase(join(dir, 'glance.db'));
  new SessionRepository(db).start({
    id: SESSION,
    device: 'test',
    source: 'live',
    startedWallMs: Date.now(),
    startedTNs: process.hrtime.bigint(),
  });
  link = null;
  device = null;
});

afterEach(async () => {
  await link?.close();
  await closePort(device);
  await pair.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function startLink(logger: SerialLogger = pino({ level: 'silent' })): Harness {
  const writer = telemetryWriter(db);
  const sink = telemetrySink(writer, SESSION);
  const statuses: LinkStatus[] = [];
  const malformedRaw: string[] = [];
  const started = new SerialLink({
    path: pair.b,
    logger,
    retry: { firstMs: 20, maxMs: 200 },
    listener: {
      onMessage: (msg, tNs) => sink(msg, tNs),
      onMalformed: (_failure, _tNs, raw) => malformedRaw.push(raw),
      onStatus: (status) => statuses.push(status),
    },
  });
  link = started;
  started.start();
  return {
    link: started,
    statuses,
    malformedRaw,
    flushRows: () => {
      writer.flush();
      return db
        .prepare('SELECT seq, kind, t_ns, payload FROM telemetry WHERE session_id = ? ORDER BY rowid')
        .safeIntegers(true)
        .all(SESSION)
        .map((r) => {
          const row = r as { seq: bigint; kind: string; t_ns: bigint; payload: string };
          return { ...row, seq: Number(row.seq) };
        });
    },
  };
}

function payloadOf(msg: SerialMessage): Record<string, unknown> {
  const { type: _type, seq: _seq, ...fields } = msg;
  return fields;
}

describe('SerialLink over a socat pty pair', () => {
  it('stores exactly the valid lines among 1,000 garbage lines', async () => {
    await pair.start();
    const h = startLink();
    await waitFor('link open', () => h.link.status === 'open');
    device = await pair.openDevice();

    const rnd = random(7);
    const sent: SerialMessage[] = [];
    const pieces: Buffer[] = [];
    let garbage = 0;
    while (sent.length < 500 || garbage < 1_000) {
      const sendValid = garbage >= 1_000 || (sent.length < 500 && rnd() < 1 / 3);
      if (sendValid) {
        const msg = randomMessage(rnd, sent.length);
        sent.push(msg);
        pieces.push(validLine(msg, rnd));
      } else {
        pieces.push(garbageLine(rnd));
        garbage++;
      }
    }
    await writeAll(device, Buffer.concat(pieces));

    await waitFor('all 1,500 lines', () => {
      const s = h.link.stats();
      return s.linesOk + s.malformed >= 1_500;
    });
    const stats = h.link.stats();
    expect(stats.linesOk).toBe(500);
    expect(stats.malformed).toBe(1_000);
    expect(stats.seqGaps).toBe(0);
    expect(stats.malformedByReason.truncated).toBe(0);
    // Every kind of garbage arrived, including junk too long for the link to hold.
    for (const reason of ['length', 'framing', 'checksum', 'type', 'fields', 'number'] as const) {
      expect(stats.malformedByReason[reason], reason).toBeGreaterThan(0);
    }
    expect(h.malformedRaw).toHaveLength(1_000);

    const rows = h.flushRows();
    expect(rows.map((r) => r.seq)).toEqual(sent.map((m) => m.seq));
    for (const i of [0, 1, 137, 250, 499]) {
      const msg = sent[i] as SerialMessage;
      expect(rows[i]?.kind).toBe(msg.type);
      expect(JSON.parse(rows[i]?.payload ?? 'null')).toEqual(payloadOf(msg));
    }
    for (let i = 1; i < rows.length; i++) {
      expect((rows[i]?.t_ns ?? 0n) >= (rows[i - 1]?.t_ns ?? 0n)).toBe(true);
    }
  });

  it('survives an unplug mid-line and reopens by itself on replug', async () => {
    await pair.start();
    const warnings: string[] = [];
    const h = startLink({ info: () => {}, warn: (_obj, msg) => warnings.push(msg ?? '') });
    await waitFor('link open', () => h.link.status === 'open');
    device = await pair.openDevice();
    const rnd = random(11);

    for (let seq = 0; seq < 100; seq++) await writeAll(device, validLine(randomMessage(rnd, seq), rnd));
    await writeAll(device, '$IMU,100,0.1,0.2');
    await waitFor('first 100 lines', () => h.link.stats().linesOk === 100);
    // The half line is in flight; give it time to reach the link before the cable goes.
    await new Promise((resolve) => setTimeout(resolve, 100));

    await pair.stop();
    await waitFor('reconnecting', () => h.link.status === 'reconnecting');
    await closePort(device);
    device = null;
    expect(h.link.stats().malformedByReason.truncated).toBe(1);
    expect(h.malformedRaw).toEqual(['$IMU,100,0.1,0.2']);
    // Several reopen attempts fail while the device is gone; none of them may crash or change the status.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(h.link.status).toBe('reconnecting');

    await pair.start();
    await waitFor('reopen', () => h.link.status === 'open');
    device = await pair.openDevice();
    for (let seq = 101; seq < 201; seq++) await writeAll(device, validLine(randomMessage(rnd, seq), rnd));
    await waitFor('100 more lines', () => h.link.stats().linesOk === 200);

    const stats = h.link.stats();
    expect(stats).toMatchObject({ reopens: 1, seqGaps: 1, malformed: 1, listenerErrors: 0 });
    expect(h.statuses).toEqual(['open', 'reconnecting', 'open']);
    expect(warnings).toContain('serial port lost; reconnecting');
    const rows = h.flushRows();
    expect(rows).toHaveLength(200);
    expect(rows.at(-1)?.seq).toBe(200);
  });

  it('waits for a device that is not there yet, and stops retrying on close', async () => {
    const h = startLink();
    await waitFor('reconnecting', () => h.link.status === 'reconnecting');
    await pair.start();
    await waitFor('open once the device appears', () => h.link.status === 'open');
    await h.link.close();
    expect(h.link.status).toBe('closed');

    const before = h.statuses.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.statuses).toHaveLength(before);
    expect(h.statuses).toEqual(['reconnecting', 'open', 'closed']);
  });
});
