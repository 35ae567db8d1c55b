import * as ort from 'onnxruntime-node';
import type { ExecutionProviderName } from './config.ts';
import { messageOf } from './errors.ts';

/** What a registry needs to log: pino's `warn`/`info` signature, so the daemon's logger fits as it is. */
export interface ModelLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export const silentLog: ModelLog = { info: () => {}, warn: () => {} };

export interface SessionOptions {
  readonly executionProviders: readonly ExecutionProviderName[];
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
}

export interface OpenedSession {
  readonly session: ort.InferenceSession;
  /** The providers the session was created with: the configured ones, or `['cpu']` after a fallback. */
  readonly providers: readonly ExecutionProviderName[];
}

/** Opens a session from model bytes; injected into the registry so tests can wrap real sessions. */
export type SessionOpener = (bytes: Uint8Array, options: SessionOptions, log: ModelLog) => Promise<OpenedSession>;

function sessionOptions(
  providers: readonly ExecutionProviderName[],
  o: SessionOptions,
): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [...providers],
    ...(o.intraOpThreads > 0 ? { intraOpNumThreads: o.intraOpThreads } : {}),
    ...(o.interOpThreads > 0 ? { interOpNumThreads: o.interOpThreads } : {}),
    graphOptimizationLevel: 'all',
  };
}

/** Which of the wanted providers this onnxruntime build can even try; the rest are dropped with a log line. */
function availableProviders(wanted: readonly ExecutionProviderName[], log: ModelLog): ExecutionProviderName[] {
  const known = new Set(ort.listSupportedBackends().map((b) => b.name));
  const usable = wanted.filter((p) => p === 'cpu' || known.has(p));
  const dropped = wanted.filter((p) => !usable.includes(p));
  if (dropped.length > 0) log.warn({ dropped }, 'execution providers not in this onnxruntime build; using the rest');
  return usable.includes('cpu') ? usable : [...usable, 'cpu'];
}

/**
 * Creates a session with the configured providers (CPU appended as the last resort). CUDA and TensorRT are
 * listed by onnxruntime-node even when their libraries are absent, so a failed creation with an accelerator is
 * retried on CPU alone and logged, rather than taking the model down.
 */
export const openSession: SessionOpener = async (bytes, options, log) => {
  const providers = availableProviders(options.executionProviders, log);
  try {
    return { session: await ort.InferenceSession.create(bytes, sessionOptions(providers, options)), providers };
  } catch (error) {
    if (providers.length === 1) throw error;
    log.warn({ providers, error: messageOf(error) }, 'execution providers unavailable; falling back to cpu');
    return { session: await ort.InferenceSession.create(bytes, sessionOptions(['cpu'], options)), providers: ['cpu'] };
  }
};
