import { createReadStream, type Stats, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join, resolve, sep } from 'node:path';
import type { Logger } from 'pino';
import { REPO_ROOT } from '../../device/paths.ts';
import type { Db } from '../../storage/db.ts';

export interface CompanionServerOptions {
  /** 0: any free port (see the handle's `port`). */
  readonly port: number;
  readonly host: string;
  /** The daemon's data directory; snippet rows' paths are relative to it. */
  readonly dataDir: string;
  readonly db: Db;
  /** One topic level, as given to startSync. */
  readonly deviceId: string;
  readonly topicPrefix?: string;
  /**
   * The broker's WebSocket URL for the browser. A function because the embedded broker's port is known only once
   * it listens (port 0 in tests). Absent: the page assumes the default embedded port on the host it was loaded from.
   */
  readonly wsUrl?: string | (() => string | undefined);
  readonly logger: Logger;
}

export interface CompanionServer {
  readonly port: number;
  close(): Promise<void>;
}

const PAGE_DIR = join(REPO_ROOT, 'sync/companion/page');
// Served from node_modules so the repository holds no vendored copy; `mqtt/dist/*` maps to `./dist/*.js`.
const MQTT_BUNDLE = createRequire(import.meta.url).resolve('mqtt/dist/mqtt.min');

const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: join(PAGE_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/index.html': { file: join(PAGE_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/app.js': { file: join(PAGE_DIR, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: join(PAGE_DIR, 'style.css'), type: 'text/css; charset=utf-8' },
  '/mqtt.min.js': { file: MQTT_BUNDLE, type: 'text/javascript; charset=utf-8' },
};

const MEDIA_TYPES: Record<string, string> = {
  mp4: 'video/mp4',
  webm: 'video/webm',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  json: 'application/json',
};

/** A single file name: no separators, no leading dot (so no `..`), nothing a shell or URL would treat specially. */
const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}$/;

/**
 * The companion page and what it needs: the page, mqtt.js, its config, and the snippet files the device holds.
 * Only files named in the `snippets` table are served, so nothing else in the data directory (the database,
 * models, calibrations) can be read over HTTP whatever the URL says.
 */
export async function startCompanionServer(options: CompanionServerOptions): Promise<CompanionServer> {
  const { db, logger } = options;
  const log = logger.child({ part: 'companion' });
  const snippetsDir = resolve(options.dataDir, 'snippets');
  const known = db.prepare('SELECT 1 FROM snippets WHERE path = ? OR thumb_path = ? LIMIT 1').pluck();

  const server = createServer((req, res) => {
    try {
      route(req, res);
    } catch (error) {
      log.warn({ err: error, url: req.url }, 'companion request failed');
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
    }
  });

  function route(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    const asset = STATIC[pathname];
    if (asset) {
      serveFile(req, res, asset.file, asset.type, false);
      return;
    }
    if (pathname === '/config.json') {
      const wsUrl = typeof options.wsUrl === 'function' ? options.wsUrl() : options.wsUrl;
      const body = JSON.stringify({
        deviceId: options.deviceId,
        topicPrefix: options.topicPrefix ?? 'glance',
        wsUrl: wsUrl ?? null,
      });
      send(res, 200, body, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      return;
    }
    if (pathname.startsWith('/snippets/')) {
      serveSnippet(req, res, pathname.slice('/snippets/'.length));
      return;
    }
    send(res, 404, 'not found\n');
  }

  function serveSnippet(req: IncomingMessage, res: ServerResponse, encoded: string): void {
    let name: string;
    try {
      name = decodeURIComponent(encoded);
    } catch {
      send(res, 400, 'bad file name\n');
      return;
    }
    if (!SAFE_NAME.test(name)) {
      send(res, 400, 'bad file name\n');
      return;
    }
    const file = join(snippetsDir, name);
    // Belt and braces: SAFE_NAME already excludes separators, but the check must hold if that pattern ever widens.
    if (!file.startsWith(snippetsDir + sep)) {
      send(res, 400, 'bad file name\n');
      return;
    }
    const relative = `snippets/${name}`;
    if (known.get(relative, relative) === undefined) {
      send(res, 404, 'no such snippet file\n');
      return;
    }
    const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
    serveFile(req, res, file, MEDIA_TYPES[ext] ?? 'application/octet-stream', true);
  }

  function serveFile(req: IncomingMessage, res: ServerResponse, file: string, type: string, ranges: boolean) {
    let stats: Stats;
    try {
      stats = statSync(file);
    } catch {
      send(res, 404, 'not found\n');
      return;
    }
    if (!stats.isFile()) {
      send(res, 404, 'not found\n');
      return;
    }
    const headers: Record<string, string | number> = { 'content-type': type, 'cache-control': 'no-cache' };
    if (ranges) headers['accept-ranges'] = 'bytes';
    const range = ranges ? parseRange(req.headers.range, stats.size) : undefined;
    if (range === 'unsatisfiable') {
      send(res, 416, '', { 'content-range': `bytes */${stats.size}` });
      return;
    }
    const [start, end] = range ?? [0, stats.size - 1];
    if (range) headers['content-range'] = `bytes ${start}-${end}/${stats.size}`;
    headers['content-length'] = Math.max(0, end - start + 1);
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD' || stats.size === 0) {
      res.end();
      return;
    }
    const stream = createReadStream(file, { start, end });
    stream.on('error', (error) => {
      log.warn({ err: error, file }, 'companion file read failed');
      res.destroy();
    });
    stream.pipe(res);
  }

  const port = await new Promise<number>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const address = server.address();
      resolveListen(typeof address === 'object' && address !== null ? address.port : options.port);
    });
  });
  log.info({ host: options.host, port }, 'companion page listening');

  return {
    port,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        // A playing <video> keeps its connection open; close() alone would wait for the browser to let go.
        server.closeAllConnections();
      }),
  };
}

/**
 * One `bytes=a-b`, `bytes=a-` or `bytes=-n` range (what browsers send for media). Multiple ranges are answered
 * with the whole file, which RFC 9110 allows; a malformed header is ignored the same way.
 */
export function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m) return undefined;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return [start, end];
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}
