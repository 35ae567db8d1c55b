import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../device/logger.ts';
import type { CaptureState } from '../../pipelines/snippets/capture-state.ts';
import type { Db } from '../../storage/db.ts';
import { Outbox } from '../../storage/outbox.ts';
import { type CompanionServer, startCompanionServer } from '../../sync/companion/server.ts';
import { type SyncHandle, startSync, syncConfigSchema } from '../../sync/index.ts';
import { ROOT, tmp } from '../helpers/cli.ts';
import { recordSample, sampleEpisodes } from '../pipelines/snippet-harness.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
// tsconfig has no DOM lib (this is a Node project): the fields read inside the browser, typed by hand.
interface LoadedImage {
  readonly complete: boolean;
  readonly naturalWidth: number;
}

const USER = { username: 'phone', password: 'phone-secret' };

/** The raw path goes on the wire as written: fetch() would normalise `..` away before the server saw it. */
function rawGet(port: number, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The companion page as a wearer uses it: the embedded broker and the real sync (startSync, as the daemon runs
 * it), a database holding snippets made by the real recorder, the page served by the companion server and
 * opened in Debian's Chromium.
 */
describe.skipIf(!existsSync(CHROMIUM))('companion page (skipped: /usr/bin/chromium is not installed)', () => {
  const dir = tmp('glance-companion-');
  let db: Db;
  let capture: CaptureState;
  let sync: SyncHandle;
  let server: CompanionServer;
  let browser: Browser;
  const labels: string[] = [];
  let snippets: Array<{ id: string; path: string; thumb_path: string }>;

  beforeAll(async () => {
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    const recorded = await recordSample({
      dataDir,
      dbFile: join(dataDir, 'glance.db'),
      // Two episodes far enough apart (more than pre + post seconds) to make two clips rather than one merged.
      episodes: sampleEpisodes().filter((_, i) => i === 0 || i === 3),
    });
    db = recorded.db;
    capture = recorded.capture;
    // No pipeline writes these kinds yet; through the real outbox they reach the page like any record would.
    const outbox = new Outbox(db);
    const firstWallMs = (db.prepare('SELECT MIN(start_wall_ms) FROM snippets').pluck().get() as number) ?? 0;
    outbox.enqueue(
      'emotion',
      'e-1',
      { emotion: 'joy', intensity: 0.8, cause: { label: 'a friend waving' } },
      firstWallMs + 3000,
    );
    outbox.enqueue('label-request', 'l-1', { requestId: 'l-1', question: 'Who is this?' }, firstWallMs + 4000);
    snippets = db.prepare('SELECT id, path, thumb_path FROM snippets ORDER BY id').all() as typeof snippets;
    const logger = createLogger('silent');
    sync = await startSync({
      db,
      config: syncConfigSchema.parse({ broker: { type: 'embedded', tcpPort: 0, wsPort: 0, users: [USER] } }),
      deviceId: 'demo',
      logger,
      status: () => ({
        capture: capture.status().mode === 'paused' ? 'paused' : 'running',
        battery: { percent: 81, charging: false },
        storage: { freeBytes: 12_400_000_000, usedBytes: 310_000_000 },
        models: { attention: '1.0.0' },
      }),
      effects: {
        pause: () => capture.pause(),
        resume: () => capture.resume(),
        calibrate: () => ({ sessionId: 'none' }),
        label: (answer) => {
          labels.push(answer.answer);
        },
        installModel: () => ({ activated: false, reason: 'not in this test' }),
        rollbackModel: (r) => ({ name: r.name, version: '0' }),
        namePerson: () => {
          throw new Error('not in this test');
        },
        mergePeople: () => {
          throw new Error('not in this test');
        },
        splitPerson: () => {
          throw new Error('not in this test');
        },
        forgetPerson: () => {
          throw new Error('not in this test');
        },
      },
    });
    server = await startCompanionServer({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      db,
      deviceId: 'demo',
      wsUrl: () => `ws://127.0.0.1:${sync.stats().broker?.ws}`,
      logger,
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await sync?.stop();
    db?.close();
  });

  it('has real snippets to show', () => {
    expect(snippets).toHaveLength(2);
  });

  it('shows status, the snippets with thumbnails and video, and pauses capture', async () => {
    const page = await browser.newPage({ viewport: { width: 480, height: 900 }, deviceScaleFactor: 1 });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`http://127.0.0.1:${server.port}/`);
    await page.getByLabel('Username').fill(USER.username);
    await page.getByLabel('Password').fill(USER.password);
    await page.getByRole('button', { name: 'Connect' }).click();

    await expect.poll(() => page.locator('#status-online').textContent(), { timeout: 15_000 }).toBe('online');
    expect(await page.locator('#status-capture').textContent()).toBe('running');

    const items = page.locator('#timeline > li[data-kind="snippet"]');
    await expect.poll(() => items.count(), { timeout: 20_000 }).toBe(snippets.length);
    await expect
      .poll(
        () =>
          page.$$eval('#timeline img', (imgs) =>
            imgs.every(
              (img) => (img as unknown as LoadedImage).complete && (img as unknown as LoadedImage).naturalWidth > 0,
            ),
          ),
        { timeout: 15_000 },
      )
      .toBe(true);
    await expect
      .poll(
        () =>
          page.$$eval('#timeline video', (vs) => vs.map((v) => (v as unknown as { readyState: number }).readyState)),
        {
          timeout: 15_000,
        },
      )
      .toSatisfy((states: number[]) => states.length === snippets.length && states.every((s) => s >= 1));

    await expect.poll(() => page.locator('#timeline > li').count()).toBe(snippets.length + 2);
    await expect(page.locator('li[data-kind="emotion"]').textContent()).resolves.toContain(
      'Felt joy — because of a friend waving',
    );
    await page.getByLabel('Label for request l-1').fill('Sam');
    await page.getByRole('button', { name: 'Send label' }).click();
    await expect.poll(() => page.locator('#reply').textContent(), { timeout: 10_000 }).toMatch(/^label: done/);
    expect(labels).toEqual(['Sam']);

    // The page stored the events and said so: the device's outbox drains.
    await expect.poll(() => sync.stats().outbox.pending, { timeout: 15_000 }).toBe(0);

    await page.getByRole('button', { name: 'Pause capture' }).click();
    await expect.poll(() => page.locator('#reply').textContent(), { timeout: 10_000 }).toMatch(/^pause: done/);
    expect(capture.status().mode).toBe('paused');
    await expect.poll(() => page.locator('#status-capture').textContent(), { timeout: 10_000 }).toBe('paused');

    const shot = await page.screenshot({ fullPage: true, type: 'png' });
    writeFileSync(join(dir, 'companion.png'), shot);
    // The README's picture is refreshed on request only, so a test run leaves the work tree clean.
    if (process.env.UPDATE_SCREENSHOTS) writeFileSync(join(ROOT, 'docs/companion.png'), shot);
    expect(statSync(join(dir, 'companion.png')).size).toBeGreaterThan(1000);
    expect(problems).toEqual([]);
    await page.close();
  }, 90_000);

  it('serves snippet files with ranges, and nothing outside the snippets table', async () => {
    const [first] = snippets;
    if (!first) throw new Error('no snippet recorded');
    const video = `/${first.path}`;
    const whole = await rawGet(server.port, video);
    expect(whole.status).toBe(200);
    expect(whole.headers['accept-ranges']).toBe('bytes');
    const part = await rawGet(server.port, video, { range: 'bytes=0-99' });
    expect(part.status).toBe(206);
    expect(part.body.length).toBe(100);
    expect(part.headers['content-range']).toBe(`bytes 0-99/${whole.body.length}`);
    expect((await rawGet(server.port, video, { range: `bytes=${whole.body.length}-` })).status).toBe(416);
    expect((await rawGet(server.port, `/${first.thumb_path}`)).status).toBe(200);

    expect((await rawGet(server.port, '/snippets/../glance.db')).status).toBe(400);
    expect((await rawGet(server.port, '/snippets/..%2Fglance.db')).status).toBe(400);
    expect((await rawGet(server.port, '/snippets/%2e%2e')).status).toBe(400);
    expect((await rawGet(server.port, '/snippets/not-a-snippet.mp4')).status).toBe(404);
    expect((await rawGet(server.port, `/snippets/${first.id}.json`)).status).toBe(404); // sidecar: not listed
    expect((await rawGet(server.port, '/glance.db')).status).toBe(404);

    const config = JSON.parse((await rawGet(server.port, '/config.json')).body.toString()) as Record<string, unknown>;
    expect(config).toEqual({
      deviceId: 'demo',
      topicPrefix: 'glance',
      wsUrl: `ws://127.0.0.1:${sync.stats().broker?.ws}`,
    });
    expect((await rawGet(server.port, '/mqtt.min.js')).status).toBe(200);
  });
});
