import pino from 'pino';

export type Logger = pino.Logger;

/** Logs go to stderr so that stdout stays free for the CLI's own output (tables, JSON). */
export function createLogger(level: string): Logger {
  return pino({ level, base: { app: 'glance' } }, pino.destination(2));
}
