import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TransferRow } from '../../storage/transfers.ts';
import { AccessPolicy } from '../../sync/broker/acl.ts';
import { syncConfigSchema } from '../../sync/config.ts';
import { TopicPattern, TopicRouter } from '../../sync/router.ts';
import { PATTERNS, Topics } from '../../sync/topics.ts';
import { ackTargetOf, judgeAck } from '../../sync/transfer/ack.ts';
import { CHUNK_HEADER_BYTES, decodeChunk, encodeChunk } from '../../sync/transfer/framing.ts';

const topics = new Topics('glance', 'dev1');
const message = (topic: string) => ({ topic, payload: Buffer.alloc(0), retain: false });

describe('chunk framing v1', () => {
  const data = Buffer.from('a snippet chunk');

  it('round-trips index and data with a 37-byte header', () => {
    const frame = encodeChunk(70_000, data);
    expect(frame.length).toBe(CHUNK_HEADER_BYTES + data.length);
    expect(frame[0]).toBe(1);
    expect(frame.subarray(5, 37)).toEqual(createHash('sha256').update(data).digest());
    expect(decodeChunk(frame)).toEqual({ index: 70_000, data });
  });

  it('refuses a damaged, truncated or unknown-version frame', () => {
    const damaged = encodeChunk(1, data);
    damaged.writeUInt8(damaged.readUInt8(CHUNK_HEADER_BYTES + 3) ^ 0xff, CHUNK_HEADER_BYTES + 3);
    expect(decodeChunk(damaged)).toEqual({ error: 'chunk sha256 mismatch' });
    expect(decodeChunk(Buffer.alloc(10))).toMatchObject({ error: expect.stringMatching(/shorter/) });
    const future = encodeChunk(1, data);
    future[0] = 2;
    expect(decodeChunk(future)).toMatchObject({ error: expect.stringMatching(/version 2/) });
  });
});

describe('judging a phone ack', () => {
  const row: TransferRow = {
    ...{ id: 't1', kind: 'snippet', recordId: 'r', path: '/x', size: 10_000, sha256: 'a'.repeat(64) },
    ...{ chunkBytes: 4096, nextChunk: 2, ackedChunks: 1, state: 'sending', error: null },
    ...{ createdMs: 0, updatedMs: 0, syncedMs: null },
  };
  const ack = (body: unknown) => Buffer.from(JSON.stringify(body));

  it('accepts progress and a matching whole-file checksum', () => {
    expect(judgeAck(ackTargetOf(row), ack({ v: 1, next: 1, missing: [2] }))).toEqual({
      kind: 'progress',
      next: 1,
      missing: [2],
    });
    expect(judgeAck(ackTargetOf(row), ack({ v: 1, next: 3, sha256: 'a'.repeat(64) }))).toEqual({
      kind: 'synced',
      chunks: 3,
    });
  });

  it.each([
    ['an unknown transfer', undefined, { v: 1, next: 0 }, /unknown transfer/],
    ['a synced transfer', { ...row, state: 'synced' as const }, { v: 1, next: 0 }, /transfer is synced/],
    ['a wrong checksum', row, { v: 1, next: 3, sha256: 'b'.repeat(64) }, /different sha256/],
    ['a checksum before the end', row, { v: 1, next: 2, sha256: 'a'.repeat(64) }, /before every chunk/],
    ['next past the end', row, { v: 1, next: 4 }, /past the last chunk/],
    ['missing outside the range', row, { v: 1, next: 1, missing: [0] }, /outside/],
    ['an unknown version', row, { v: 2, next: 1 }, /invalid/],
  ])('ignores %s', (_what, transfer, body, reason) => {
    const decision = judgeAck(ackTargetOf(transfer), ack(body));
    expect(decision.kind).toBe('ignore');
    expect(decision.kind === 'ignore' && decision.reason).toMatch(reason);
  });
});

describe('topic router', () => {
  it('routes by pattern and hands over the named levels', () => {
    const seen: string[] = [];
    const router = new TopicRouter(topics.root)
      .on(PATTERNS.snippetAck, (_m, p) => seen.push(`ack ${p.transferId}`))
      .on(PATTERNS.command, (_m, p) => seen.push(`cmd ${p.name}`));
    expect(router.dispatch(message('glance/dev1/snippets/t-1/ack'))).toBe(true);
    expect(router.dispatch(message('glance/dev1/cmd/models/install'))).toBe(true);
    expect(router.dispatch(message('glance/dev1/snippets/t-1/ack/extra'))).toBe(false);
    expect(router.dispatch(message('glance/dev2/cmd/pause'))).toBe(false);
    expect(router.dispatch(message('glance/dev1/cmd//pause'))).toBe(false);
    expect(seen).toEqual(['ack t-1', 'cmd models/install']);
  });

  it('refuses * anywhere but last', () => {
    expect(() => new TopicPattern('r', '*a/b')).toThrow(/last level/);
  });
});

describe('embedded broker access policy', () => {
  const policy = new AccessPolicy(topics);
  const phone = { kind: 'phone', username: 'p' } as const;
  const device = { kind: 'device' } as const;

  it.each([
    ['glance/dev1/cmd/pause', false, true],
    ['glance/dev1/cmd/models/rollback', false, true],
    ['glance/dev1/snippets/t1/ack', false, true],
    ['glance/dev1/phone/receipts', false, true],
    ['glance/dev1/phone/presence', true, true],
    ['glance/dev1/cmd/pause', true, false],
    ['glance/dev1/cmd/pause/reply', false, false],
    ['glance/dev1/events/snippet', false, false],
    ['glance/dev1/status', false, false],
    ['glance/dev1/snippets/t1/chunk/0', false, false],
    ['glance/dev2/cmd/pause', false, false],
  ])('phone publishing %s (retain %s): %s', (topic, retain, allowed) => {
    expect(policy.mayPublish(phone, topic, retain)).toBe(allowed);
  });

  it('gives the device its own tree and nothing else', () => {
    expect(policy.mayPublish(device, 'glance/dev1/events/snippet', false)).toBe(true);
    expect(policy.mayPublish(device, 'glance/dev2/events/snippet', false)).toBe(false);
    expect(policy.maySubscribe(device, 'glance/dev1/cmd/#')).toBe(true);
    expect(policy.maySubscribe(device, '#')).toBe(false);
  });

  it('lets a phone subscribe under its device only', () => {
    for (const ok of ['glance/dev1/#', 'glance/dev1/events/+', 'glance/dev1/status']) {
      expect(policy.maySubscribe(phone, ok)).toBe(true);
    }
    for (const no of [
      '#',
      'glance/#',
      'glance/+/status',
      'glance/dev1',
      'glance/dev10/#',
      '$SYS/#',
      '$share/g/glance/dev1/#',
    ]) {
      expect(policy.maySubscribe(phone, no)).toBe(false);
    }
  });
});

describe('sync config', () => {
  it('defaults to the embedded broker on loopback', () => {
    const config = syncConfigSchema.parse({});
    expect(config.broker).toEqual({ type: 'embedded', host: '127.0.0.1', tcpPort: 1883, wsPort: 8083, users: [] });
    expect(config.topicPrefix).toBe('glance');
    expect(config.outbox).toMatchObject({ batch: 256, maxPerSecond: 2000 });
    expect(config.chunkBytes).toBe(65_536);
  });

  it('takes an external broker by URL, with auto protocol detection', () => {
    const config = syncConfigSchema.parse({
      broker: { type: 'external', url: 'mqtts://broker.local:8883', username: 'd' },
    });
    expect(config.broker).toEqual({
      type: 'external',
      url: 'mqtts://broker.local:8883',
      username: 'd',
      protocolVersion: 'auto',
    });
  });

  it.each([
    [{ brokr: {} }, /Unrecognized key/],
    [{ broker: { type: 'embedded', tcpPort: 70_000 } }, /tcpPort/],
    [{ broker: { type: 'external', url: 'http://x' } }, /mqtt/],
    [{ broker: { type: 'cloud' } }, /broker/],
    [{ broker: { type: 'embedded', users: [{ username: 'glance-device', password: '12345678' }] } }, /reserved/],
    [{ broker: { type: 'embedded', users: [{ username: 'a', password: 'short' }] } }, /password/],
    [{ topicPrefix: 'a/b' }, /topic level/],
    [{ chunkBytes: 10 }, /chunkBytes/],
    [{ outbox: { maxPerSecond: 0 } }, /maxPerSecond/],
  ])('refuses %j', (raw, problem) => {
    const result = syncConfigSchema.safeParse(raw);
    expect(result.success).toBe(false);
    const text = result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    expect(text).toMatch(problem);
  });

  it('describes every field for the config reference', () => {
    const json = JSON.stringify(syncConfigSchema.toJSONSchema());
    for (const field of ['maxPerSecond', 'chunkBytes', 'topicPrefix', 'receiptTimeoutMs', 'maxPayloadBytes']) {
      expect(json).toContain(field);
    }
    expect((json.match(/"description"/g) ?? []).length).toBeGreaterThan(15);
  });
});
